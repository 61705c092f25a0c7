import * as tf from "@tensorflow/tfjs";
import { explainedVariance } from "../algorithms/explained-variance.js";
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
  "critic/vf_clipfrac",
  "critic/vf_explained_var",
]);

/** Whether each per-micro-batch metric (every one but the gradient norm) is weighted by the loss weight. */
const LOSS_WEIGHTED = METRIC_NAMES.slice(0, -1).map((name) => !TOKEN_WEIGHTED.has(name));

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
 * Gradients of one micro-batch's weighted loss with respect to `variables`, and its weighted metrics
 * `[METRIC_NAMES.length − 1]` (every metric but the gradient norm): the clipped surrogate, plus β·KL to the
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
      let explained: tf.Scalar = tf.scalar(0);
      if (useCritic) {
        const values = out.values as tf.Tensor2D;
        const valueLoss = computeValueLoss(
          { values, oldValues, returns, mask, clipRange: config.valueClip },
          config.lossAggregation,
        );
        vfLoss = valueLoss.loss;
        vfClipFraction = valueLoss.clipFraction;
        explained = explainedVariance(returns, values, mask);
        total = tf.add(total, tf.mul(vfLoss, config.vfCoef));
      }
      const raw = tf.stack([
        total,
        pg.loss,
        pg.clipFraction,
        pg.clipFractionLower,
        pg.approxKl,
        entropy,
        klLoss,
        vfLoss,
        vfClipFraction,
        explained,
      ]);
      const metricWeights = tf.tensor1d(
        LOSS_WEIGHTED.map((byLoss) => (byLoss ? weights.loss : weights.tokens)),
      );
      metrics = tf.keep(tf.mul(raw, metricWeights) as tf.Tensor1D);
      return weights.loss === 1 ? total : (tf.mul(total, weights.loss) as tf.Scalar);
    }, variables);
    value.dispose();
    return { grads, metrics: metrics as unknown as tf.Tensor1D };
  } catch (error) {
    (metrics as tf.Tensor1D | null)?.dispose();
    throw error;
  }
}
