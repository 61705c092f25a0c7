import { deriveSeed, SeededRandom } from "@orbiter/types";
import * as tf from "@tensorflow/tfjs";
import { explainedVariance } from "../algorithms/explained-variance.js";
import { estimateKl } from "../algorithms/kl-estimators.js";
import { aggregateLoss } from "../algorithms/loss-aggregation.js";
import { computePolicyLoss } from "../algorithms/policy-loss.js";
import { computeValueLoss } from "../algorithms/value-loss.js";
import type { VeRLConfig } from "../config/verl-config.js";
import type { Policy } from "../model/policy.js";
import type { RolloutBatch } from "./rollout-batch.js";

/** Applies clipped gradients to the policy's variables: an `AdamOptimizer` in practice. */
export interface GradientApplier {
  /** Learning rate of the next update (set before each step, for schedules). */
  learningRate: number;
  /** Updates every variable named in `gradients` (tfjs variable names); the gradients are not disposed. */
  applyGradients(gradients: Readonly<Record<string, tf.Tensor>>): void;
}

/** Inputs of {@link runPolicyUpdate}. */
export interface PolicyUpdateInput {
  /** The parsed trainer config. */
  config: VeRLConfig;
  /** The policy being trained. */
  policy: Policy;
  /** The rollout to learn from. */
  batch: RolloutBatch;
  /** Current KL coefficient β. */
  klCoef: number;
  /** Learning rate of this step. */
  learningRate: number;
  /** The optimiser. */
  optimizer: GradientApplier;
  /** Seed of the mini-batch shuffling of this step. */
  seed: number;
}

/** Result of {@link runPolicyUpdate}: metrics averaged over the applied mini-batch updates. */
export interface PolicyUpdateResult {
  /** verl-named metrics (`actor/pg_loss`, `actor/grad_norm`, `critic/vf_loss`, ...). */
  metrics: Record<string, number>;
  /** Mean total loss of the applied updates (NaN when every update was skipped). */
  loss: number;
  /** Mini-batch updates applied. */
  applied: number;
  /** Mini-batch updates skipped because the loss or the gradient was not finite. */
  skipped: number;
}

const METRIC_NAMES = [
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

/** Which weight each metric of {@link METRIC_NAMES} takes when micro-batches are combined. */
const TOKEN_WEIGHTED = new Set([
  "actor/pg_clipfrac",
  "actor/pg_clipfrac_lower",
  "actor/ppo_kl",
  "critic/vf_clipfrac",
  "critic/vf_explained_var",
]);

/**
 * The weights of a micro-batch inside its mini-batch: `loss` scales its aggregated loss so that the sum over the
 * micro-batches equals the mini-batch's loss under the aggregation mode; `tokens` is its share of the valid tokens
 * (for the masked-mean metrics).
 */
function microBatchWeights(
  rowTokens: ReadonlyArray<number>,
  micro: ReadonlyArray<number>,
  mini: ReadonlyArray<number>,
  mode: VeRLConfig["lossAggregation"],
): { loss: number; tokens: number } {
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

/**
 * The policy (and critic) update of one training step: `ppoEpochs` passes over the rollout, each split into
 * shuffled mini-batches of `miniBatchSize` responses, one optimiser step per mini-batch; a mini-batch larger than
 * `microBatchSize` is processed in micro-batches whose weighted gradients are summed. The loss is the clipped
 * surrogate, plus β·KL to the reference when `klPlacement` is `loss`, minus the entropy bonus, plus `vfCoef` times
 * the clipped value loss for PPO, all aggregated with `lossAggregation`. Gradients are clipped to `gradClip` by
 * global norm; a mini-batch whose loss or gradient is not finite is skipped (and counted), so the weights never
 * become NaN. One device→host read per mini-batch.
 */
export function runPolicyUpdate(input: PolicyUpdateInput): PolicyUpdateResult {
  const { config, policy, batch, klCoef, learningRate, optimizer } = input;
  const variables = policy.trainableVariables();
  const useCritic = batch.returns !== null && batch.oldValues !== null;
  const klInLoss = config.klPlacement === "loss" && klCoef > 0 && batch.refLogProbs !== null;
  const miniBatches = batch.size / config.miniBatchSize;
  const { microBatchSize } = config; // resolved by VeRLConfig: at most miniBatchSize
  const rng = new SeededRandom(deriveSeed(input.seed, "mini-batches"));
  const sums = new Float64Array(METRIC_NAMES.length);
  // Weights of the per-micro-batch metrics (every metric but the gradient norm, which is measured on the sum).
  const lossWeighted = METRIC_NAMES.slice(0, -1).map((name) => !TOKEN_WEIGHTED.has(name));
  let applied = 0;
  let skipped = 0;

  /** Gradients of one micro-batch's weighted loss, and its weighted metrics `[METRIC_NAMES.length − 1]`. */
  const microBatch = (
    rowList: number[] | null,
    weights: { loss: number; tokens: number },
  ): { grads: tf.NamedTensorMap; metrics: tf.Tensor1D; value: tf.Scalar } => {
    // The micro-batch's rows are gathered before the gradient tape: they are constants, and a gather on the tape
    // would keep a copy of the whole batch tensor for a backward pass that never uses it.
    const rows = rowList ? tf.tensor1d(rowList, "int32") : null;
    const gathered: tf.Tensor[] = [];
    const pick = <T extends tf.Tensor | null>(tensor: T): T => {
      if (tensor === null || rows === null) return tensor;
      const part = tf.gather(tensor, rows) as T & tf.Tensor;
      gathered.push(part);
      return part;
    };
    const mask = pick(batch.responseMask);
    const tokens = pick(batch.tokens);
    const attentionMask = pick(batch.attentionMask);
    const oldLogProbs = pick(batch.oldLogProbs);
    const advantages = pick(batch.advantages);
    const refLogProbs = pick(batch.refLogProbs);
    const returns = pick(batch.returns);
    const oldValues = pick(batch.oldValues);
    let metricsVector: tf.Tensor1D | null = null;
    let result: { value: tf.Scalar; grads: tf.NamedTensorMap };
    try {
      result = tf.variableGrads(() => {
        const out = policy.logProbs({
          tokens,
          attentionMask,
          responseStart: batch.responseStart,
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
        if (useCritic && returns !== null && oldValues !== null) {
          const values = out.values as tf.Tensor2D;
          const valueLoss = computeValueLoss(
            {
              values,
              oldValues,
              returns,
              mask,
              clipRange: config.valueClip,
            },
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
          lossWeighted.map((byLoss) => (byLoss ? weights.loss : weights.tokens)),
        );
        metricsVector = tf.keep(tf.mul(raw, metricWeights) as tf.Tensor1D);
        return weights.loss === 1 ? total : (tf.mul(total, weights.loss) as tf.Scalar);
      }, variables);
    } catch (error) {
      (metricsVector as tf.Tensor1D | null)?.dispose();
      throw error;
    } finally {
      tf.dispose(gathered);
      rows?.dispose();
    }
    return { ...result, metrics: metricsVector as unknown as tf.Tensor1D };
  };

  for (let epoch = 0; epoch < config.ppoEpochs; epoch++) {
    const order = miniBatches > 1 ? rng.shuffle(Array.from({ length: batch.size }, (_, i) => i)) : null;
    for (let m = 0; m < miniBatches; m++) {
      const mini = order
        ? order.slice(m * config.miniBatchSize, (m + 1) * config.miniBatchSize)
        : Array.from({ length: batch.size }, (_, i) => i);
      let grads: tf.NamedTensorMap = {};
      let metrics: tf.Tensor1D | null = null;
      try {
        for (let start = 0; start < mini.length; start += microBatchSize) {
          const micro = mini.slice(start, start + microBatchSize);
          const part = microBatch(
            order === null && micro.length === batch.size ? null : micro,
            microBatchWeights(batch.rowTokens, micro, mini, config.lossAggregation),
          );
          part.value.dispose();
          if (metrics === null) {
            grads = part.grads;
            metrics = part.metrics;
          } else {
            const previous: tf.Tensor[] = [metrics];
            metrics = tf.add(metrics, part.metrics) as tf.Tensor1D;
            for (const [name, gradient] of Object.entries(part.grads)) {
              const sum = grads[name];
              if (sum === undefined) {
                grads[name] = gradient;
              } else {
                grads[name] = tf.add(sum, gradient);
                previous.push(sum, gradient);
              }
            }
            previous.push(part.metrics);
            tf.dispose(previous);
          }
        }
      } catch (error) {
        // A failing micro-batch: free what the earlier ones accumulated.
        tf.dispose([...Object.values(grads), ...(metrics ? [metrics] : [])]);
        throw error;
      }
      const gradientList = Object.values(grads);
      const summed = metrics as tf.Tensor1D;
      const readback = tf.tidy(() =>
        tf.concat([
          summed,
          tf.reshape(tf.sqrt(tf.addN(gradientList.map((gradient) => tf.sum(tf.square(gradient))))), [1]),
        ]),
      );
      const host = readback.dataSync();
      tf.dispose([readback, summed]);
      const gradientNorm = host[host.length - 1] as number;
      const finite = Array.from(host).every((x) => Number.isFinite(x));
      if (finite) {
        const scale = Math.min(1, config.gradClip / (gradientNorm + 1e-6));
        const clipped: tf.NamedTensorMap = {};
        for (const [name, gradient] of Object.entries(grads)) {
          clipped[name] = scale < 1 ? tf.mul(gradient, scale) : gradient;
        }
        optimizer.learningRate = learningRate;
        optimizer.applyGradients(clipped);
        if (scale < 1) tf.dispose(Object.values(clipped));
        host.forEach((x, i) => {
          sums[i] = (sums[i] as number) + x;
        });
        applied++;
      } else {
        skipped++;
      }
      tf.dispose(gradientList);
    }
  }
  const metrics: Record<string, number> = {};
  METRIC_NAMES.forEach((name, i) => {
    if (name !== "loss") metrics[name] = applied > 0 ? (sums[i] as number) / applied : Number.NaN;
  });
  if (!useCritic) {
    delete metrics["critic/vf_loss"];
    delete metrics["critic/vf_clipfrac"];
    delete metrics["critic/vf_explained_var"];
  }
  if (batch.refLogProbs === null) delete metrics["actor/kl_loss"];
  return { metrics, loss: applied > 0 ? (sums[0] as number) / applied : Number.NaN, applied, skipped };
}
