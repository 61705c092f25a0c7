import * as tf from "@tensorflow/tfjs";
import { estimateKl } from "../algorithms/kl-estimators.js";
import { aggregateLoss } from "../algorithms/loss-aggregation.js";
import { computePolicyLoss } from "../algorithms/policy-loss.js";
import { computeValueLoss } from "../algorithms/value-loss.js";
import type { VeRLConfig } from "../config/verl-config.js";
import type { Policy } from "../model/policy.js";

/** The metrics of one update, in the order of the metric vectors; `loss` is the total loss. */
export const METRIC_NAMES = [
  "loss",
  "actor/pg_loss",
  "actor/pg_clipfrac",
  "actor/pg_clipfrac_lower",
  "actor/ppo_kl",
  "actor/approx_kl",
  "actor/entropy",
  "actor/kl_loss",
  "critic/vf_loss",
  "critic/vf_clipfrac",
  "critic/vf_explained_var",
  "actor/grad_norm",
] as const;

/** Metrics that are masked means over tokens: weighted by a micro-batch's share of the tokens. */
const TOKEN_WEIGHTED = new Set<string>([
  "actor/pg_clipfrac",
  "actor/pg_clipfrac_lower",
  "actor/ppo_kl",
  "actor/approx_kl",
  "critic/vf_clipfrac",
]);

/**
 * The metrics a micro-batch reports as weighted values that add up over the micro-batches of a mini-batch (the
 * first {@link WEIGHTED_METRIC_COUNT} entries of its metric vector; the explained variance and the gradient norm
 * are not among them).
 */
const WEIGHTED_METRICS = METRIC_NAMES.slice(0, METRIC_NAMES.indexOf("critic/vf_explained_var"));

/** Number of weighted metrics at the start of a micro-batch's metric vector. */
export const WEIGHTED_METRIC_COUNT = WEIGHTED_METRICS.length;

/** Length of a micro-batch's metric vector: the weighted metrics, then the five critic sums. */
export const METRIC_VECTOR_LENGTH = WEIGHTED_METRIC_COUNT + 5;

/** Whether each weighted metric is weighted by the loss weight (else by the token share). */
const LOSS_WEIGHTED = WEIGHTED_METRICS.map((name) => !TOKEN_WEIGHTED.has(name));

/**
 * `critic/vf_explained_var` from the critic sums of a mini-batch (token count, Σ R, Σ R², Σ (R − V), Σ (R − V)²
 * over the valid tokens, entries `offset..offset+4`): `1 − Var(R − V) / (Var(R) + 1e-5)` with unbiased variances,
 * as `explainedVariance` computes it on the whole mini-batch. Sums add exactly across micro-batches and workers,
 * where a share-weighted mean of per-part ratios would not.
 */
export function explainedVarianceFromSums(sums: ArrayLike<number>, offset: number): number {
  const n = sums[offset] as number;
  const variance = (sum: number, squares: number) =>
    Math.max(squares - (sum * sum) / Math.max(n, 1), 0) / Math.max(n - 1, 1);
  const returns = variance(sums[offset + 1] as number, sums[offset + 2] as number);
  const residual = variance(sums[offset + 3] as number, sums[offset + 4] as number);
  return 1 - residual / (returns + 1e-5);
}

/**
 * The weights of a micro-batch inside its mini-batch: `loss` scales its aggregated loss so that the sum over the
 * micro-batches equals the mini-batch's loss under the aggregation mode; `tokens` is its share of the valid tokens
 * (for the masked-mean metrics).
 */
export interface MicroBatchWeights {
  /** Factor of the micro-batch's aggregated loss (1 when it is the whole mini-batch). */
  loss: number;
  /** Share of the mini-batch's loss tokens. */
  tokens: number;
}

/** The {@link MicroBatchWeights} of rows `micro` inside the mini-batch `mini`, from each row's loss-token count. */
export function microBatchWeights(
  rowTokens: ReadonlyArray<number>,
  micro: ReadonlyArray<number>,
  mini: ReadonlyArray<number>,
  mode: VeRLConfig["lossAggregation"],
): MicroBatchWeights {
  const tokensOf = (rows: ReadonlyArray<number>) =>
    rows.reduce((sum, row) => sum + (rowTokens[row] as number), 0);
  const sequencesOf = (rows: ReadonlyArray<number>) =>
    rows.filter((row) => (rowTokens[row] as number) > 0).length;
  const miniTokens = tokensOf(mini);
  const tokens = miniTokens === 0 ? 0 : tokensOf(micro) / miniTokens;
  if (micro.length === mini.length) return { loss: 1, tokens: 1 };
  if (mode === "token-mean") return { loss: tokens, tokens };
  if (mode === "seq-mean-token-sum-norm") return { loss: 1, tokens };
  const miniSequences = sequencesOf(mini);
  return { loss: miniSequences === 0 ? 0 : sequencesOf(micro) / miniSequences, tokens };
}

/** The rows of a rollout batch one micro-batch learns from (`[b, L]` and `[b, R]` tensors). */
export interface MicroBatchTensors {
  /** `[b, L]` int32 prompt + response ids. */
  tokens: tf.Tensor2D;
  /** `[b, L]` 1 on real tokens. */
  attentionMask: tf.Tensor2D;
  /** `[b, R]` 1 on the tokens of the loss. */
  responseMask: tf.Tensor2D;
  /** `[b, R]` log π_old. */
  oldLogProbs: tf.Tensor2D;
  /** `[b, R]` advantages. */
  advantages: tf.Tensor2D;
  /** `[b, R]` log π_ref, or null without a reference. */
  refLogProbs: tf.Tensor2D | null;
  /** `[b, R]` value targets (with a critic). */
  returns: tf.Tensor2D | null;
  /** `[b, R]` values at rollout time (with a critic). */
  oldValues: tf.Tensor2D | null;
}

/** What {@link microBatchGradients} needs besides the rows. */
export interface MicroBatchSettings {
  /** The parsed trainer config. */
  config: VeRLConfig;
  /** First response column of `tokens`. */
  responseStart: number;
  /** Current KL coefficient β. */
  klCoef: number;
}

/**
 * Gradients of one micro-batch's weighted loss with respect to `variables`, and its metric vector
 * `[METRIC_VECTOR_LENGTH]` (the weighted metrics, then the critic sums, all of which add up over micro-batches):
 * the clipped surrogate, plus β·KL to the
 * reference when `klPlacement` is `loss`, minus the entropy bonus, plus `vfCoef` times the clipped value loss when
 * `returns` and `oldValues` are given, aggregated with `lossAggregation`. The caller owns the returned tensors.
 */
export function microBatchGradients(
  policy: Policy,
  variables: tf.Variable[],
  rows: MicroBatchTensors,
  settings: MicroBatchSettings,
  weights: MicroBatchWeights,
): { grads: tf.NamedTensorMap; metrics: tf.Tensor1D } {
  const { config, klCoef } = settings;
  const { tokens, attentionMask, responseMask: mask, oldLogProbs, advantages, refLogProbs } = rows;
  const { returns, oldValues } = rows;
  const useCritic = returns !== null && oldValues !== null;
  const klInLoss = config.klPlacement === "loss" && klCoef > 0 && refLogProbs !== null;
  let metrics: tf.Tensor1D | null = null;
  try {
    const { value, grads } = tf.variableGrads(() => {
      const out = policy.logProbs({
        tokens,
        attentionMask,
        responseStart: settings.responseStart,
        temperature: config.temperature,
        withEntropy: true,
        withValues: useCritic,
        // An unresolved "auto" (a caller below the trainer) trains like "detached".
        detachValues: config.critic !== "shared",
      });
      const pg = computePolicyLoss(
        {
          logProbs: out.logProbs,
          oldLogProbs,
          advantages,
          mask,
          clipLow: config.clipRangeLow,
          clipHigh: config.clipRangeHigh,
          dualClip: config.dualClip,
        },
        config.lossAggregation,
      );
      let total: tf.Scalar = pg.loss;
      const entropy = aggregateLoss(out.entropy as tf.Tensor2D, mask, config.lossAggregation);
      if (config.entropyCoef > 0) total = tf.sub(total, tf.mul(entropy, config.entropyCoef));
      let klLoss: tf.Scalar = tf.scalar(0);
      if (refLogProbs !== null) {
        const kl = estimateKl(out.logProbs, refLogProbs, config.klEstimator, { clamp: true });
        klLoss = aggregateLoss(kl, mask, config.lossAggregation);
        if (klInLoss) total = tf.add(total, tf.mul(klLoss, klCoef));
      }
      let vfLoss: tf.Scalar = tf.scalar(0);
      let vfClipFraction: tf.Scalar = tf.scalar(0);
      let criticSums: tf.Tensor1D = tf.zeros([5]);
      if (useCritic) {
        const values = out.values as tf.Tensor2D;
        const valueLoss = computeValueLoss(
          { values, oldValues, returns, mask, clipRange: config.valueClip },
          config.lossAggregation,
        );
        vfLoss = valueLoss.loss;
        vfClipFraction = valueLoss.clipFraction;
        const residual = tf.sub(returns, values);
        criticSums = tf.stack([
          tf.sum(mask),
          tf.sum(tf.mul(returns, mask)),
          tf.sum(tf.mul(tf.square(returns), mask)),
          tf.sum(tf.mul(residual, mask)),
          tf.sum(tf.mul(tf.square(residual), mask)),
        ]) as tf.Tensor1D;
        total = tf.add(total, tf.mul(vfLoss, config.vfCoef));
      }
      const raw = tf.stack([
        total,
        pg.loss,
        pg.clipFraction,
        pg.clipFractionLower,
        pg.approxKl,
        pg.lowVarianceKl,
        entropy,
        klLoss,
        vfLoss,
        vfClipFraction,
      ]);
      const metricWeights = tf.tensor1d(
        LOSS_WEIGHTED.map((byLoss) => (byLoss ? weights.loss : weights.tokens)),
      );
      metrics = tf.keep(tf.concat([tf.mul(raw, metricWeights), criticSums]) as tf.Tensor1D);
      return weights.loss === 1 ? total : (tf.mul(total, weights.loss) as tf.Scalar);
    }, variables);
    value.dispose();
    return { grads, metrics: metrics as unknown as tf.Tensor1D };
  } catch (error) {
    (metrics as tf.Tensor1D | null)?.dispose();
    throw error;
  }
}
