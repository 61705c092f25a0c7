import { InvalidArgumentError } from "@orbiter/types";
import * as tf from "@tensorflow/tfjs";
import { type AggregateLossOptions, aggregateLoss, type LossAggregation } from "./loss-aggregation.js";
import { maskedMean } from "./masked-statistics.js";

/** Inputs of {@link computePolicyLoss} and {@link clippedSurrogate}. */
export interface PolicyLossInput {
  /** `[B, T]` log π(a_t) under the policy being trained (carries the gradient). */
  logProbs: tf.Tensor;
  /** `[B, T]` log π_old(a_t) recorded at rollout time. */
  oldLogProbs: tf.Tensor;
  /** `[B, T]` advantages. */
  advantages: tf.Tensor;
  /** `[B, T]` 1 on valid response tokens. */
  mask: tf.Tensor;
  /** Lower clip ε_low: the ratio is clipped at 1 − ε_low. @default 0.2 */
  clipLow?: number;
  /** Upper clip ε_high (clip-higher, DAPO uses 0.28). @default clipLow */
  clipHigh?: number;
  /**
   * Dual-clip constant c > 1 (verl `clip_ratio_c`): for negative advantages the per-token loss is capped at c·|A|.
   * `null` turns dual-clip off.
   * @default null
   */
  dualClip?: number | null;
}

/** Per-token pieces of the clipped surrogate; the caller owns every tensor. */
export interface ClippedSurrogate {
  /** `[B, T]` per-token loss (unmasked). */
  losses: tf.Tensor;
  /** `[B, T]` 1 where the clipped branch was the larger one (L2 > L1). */
  clipped: tf.Tensor;
  /** `[B, T]` 1 where dual-clip capped the loss (A < 0 and L_clip > −c·A). */
  clippedLower: tf.Tensor;
  /** `[B, T]` the importance ratio ρ = exp(clamp(logπ − logπ_old, −20, 20)). */
  ratio: tf.Tensor;
}

/** Scalar results of {@link computePolicyLoss}; the caller owns every tensor. */
export interface PolicyLoss {
  /** The aggregated clipped-surrogate loss (differentiable). */
  loss: tf.Scalar;
  /** `actor/pg_clipfrac`: masked mean of [L2 > L1]. */
  clipFraction: tf.Scalar;
  /** `actor/pg_clipfrac_lower`: masked mean of tokens capped by dual-clip. */
  clipFractionLower: tf.Scalar;
  /** `actor/ppo_kl`: masked mean of logπ_old − logπ (k1: signed, ≈ 0 or below while the policy moves). */
  approxKl: tf.Scalar;
  /**
   * `actor/approx_kl`: masked mean of (ρ − 1) − log ρ over the same tokens (k3, SB3's `approx_kl_div`), with
   * log ρ = logπ − logπ_old clamped to ±20 as the ratio is. Never negative (each token's term is floored at 0
   * against float rounding), and 0 when the policy has not moved on those tokens; but a move under about 1e-3
   * nats per token is below float32's resolution of the term (log ρ = −1e-4 reads exactly 0, +1e-5 reads 1e-8
   * for a true 5e-11), so 0 does not prove the policy unmoved.
   */
  lowVarianceKl: tf.Scalar;
}

function checkClip(value: number, field: string): void {
  if (!(value >= 0) || !Number.isFinite(value)) {
    throw new InvalidArgumentError(`${field} must be a finite non-negative number, got ${value}`, { field });
  }
}

/**
 * The PPO clipped surrogate per token (verl `compute_policy_loss_vanilla`): ρ = exp(clamp(Δ, −20, 20)),
 * L1 = −A·ρ, L2 = −A·clip(ρ, 1 − ε_low, 1 + ε_high), L = max(L1, L2); with dual-clip, where A < 0,
 * L = min(L, −c·A).
 */
export function clippedSurrogate(input: PolicyLossInput): ClippedSurrogate {
  const { logProbs, oldLogProbs, advantages, mask } = input;
  const clipLow = input.clipLow ?? 0.2;
  const clipHigh = input.clipHigh ?? clipLow;
  const dualClip = input.dualClip ?? null;
  checkClip(clipLow, "clipLow");
  checkClip(clipHigh, "clipHigh");
  if (dualClip !== null && !(dualClip > 1)) {
    throw new InvalidArgumentError(`dualClip must be greater than 1, got ${dualClip}`, { field: "dualClip" });
  }
  return tf.tidy(() => {
    const ratio = tf.exp(tf.clipByValue(tf.sub(logProbs, oldLogProbs), -20, 20));
    const negativeAdvantage = tf.neg(advantages);
    const unclipped = tf.mul(negativeAdvantage, ratio);
    const clippedLoss = tf.mul(negativeAdvantage, tf.clipByValue(ratio, 1 - clipLow, 1 + clipHigh));
    const pessimistic = tf.maximum(unclipped, clippedLoss);
    const clipped = tf.mul(tf.cast(tf.greater(clippedLoss, unclipped), "float32"), mask);
    if (dualClip === null) {
      return { losses: pessimistic, clipped, clippedLower: tf.zerosLike(clipped), ratio };
    }
    const cap = tf.mul(negativeAdvantage, dualClip);
    const isNegative = tf.less(advantages, 0);
    const losses = tf.where(isNegative, tf.minimum(pessimistic, cap), pessimistic);
    const clippedLower = tf.mul(
      tf.cast(tf.logicalAnd(tf.greater(pessimistic, cap), isNegative), "float32"),
      mask,
    );
    return { losses, clipped, clippedLower, ratio };
  });
}

/**
 * The aggregated PPO/GRPO policy-gradient loss with its diagnostics (`actor/pg_loss`, `actor/pg_clipfrac`,
 * `actor/pg_clipfrac_lower`, `actor/ppo_kl`, `actor/approx_kl`). Call it inside `tf.variableGrads`/`optimizer.minimize` to train.
 *
 * @example
 * ```ts
 * const { loss, clipFraction } = computePolicyLoss(
 *   { logProbs, oldLogProbs, advantages, mask, clipLow: 0.2, clipHigh: 0.28, dualClip: 3 }, "token-mean");
 * ```
 */
export function computePolicyLoss(
  input: PolicyLossInput,
  aggregation: LossAggregation = "token-mean",
  options: AggregateLossOptions = {},
): PolicyLoss {
  return tf.tidy(() => {
    const surrogate = clippedSurrogate(input);
    const logRatio = tf.clipByValue(tf.sub(input.logProbs, input.oldLogProbs), -20, 20);
    const k3 = tf.relu(tf.sub(tf.sub(surrogate.ratio, 1), logRatio));
    return {
      loss: aggregateLoss(surrogate.losses, input.mask, aggregation, options),
      clipFraction: maskedMean(surrogate.clipped, input.mask) as tf.Scalar,
      clipFractionLower: maskedMean(surrogate.clippedLower, input.mask) as tf.Scalar,
      approxKl: maskedMean(tf.sub(input.oldLogProbs, input.logProbs), input.mask) as tf.Scalar,
      lowVarianceKl: maskedMean(k3, input.mask) as tf.Scalar,
    };
  });
}
