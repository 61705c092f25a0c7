import { InvalidArgumentError } from "@orbiter/types";
import * as tf from "@tensorflow/tfjs";
import { type AggregateLossOptions, aggregateLoss, type LossAggregation } from "./loss-aggregation.js";
import { maskedMean } from "./masked-statistics.js";

/** Inputs of {@link computeValueLoss}. */
export interface ValueLossInput {
  /** `[B, T]` value predictions of the critic being trained (carries the gradient). */
  values: tf.Tensor;
  /** `[B, T]` value predictions recorded at rollout time. */
  oldValues: tf.Tensor;
  /** `[B, T]` GAE returns, the regression target. */
  returns: tf.Tensor;
  /** `[B, T]` 1 on valid response tokens. */
  mask: tf.Tensor;
  /** Value clip ε_v: the new value may move at most this far from the old one. `null` disables clipping. @default 0.2 */
  clipRange?: number | null;
}

/** Scalar results of {@link computeValueLoss}; the caller owns both tensors. */
export interface ValueLoss {
  /** `critic/vf_loss` = ½·agg(max((V − R)², (V_clip − R)²)) (differentiable). */
  loss: tf.Scalar;
  /** `critic/vf_clipfrac`: masked mean of [(V_clip − R)² > (V − R)²]. */
  clipFraction: tf.Scalar;
}

/**
 * The clipped value loss of PPO (verl `compute_value_loss`): V_clip = clip(V, V_old − ε, V_old + ε) and
 * L = ½·agg(max((V − R)², (V_clip − R)²)).
 *
 * @example
 * ```ts
 * const { loss } = computeValueLoss({ values, oldValues, returns, mask, clipRange: 0.2 }, "token-mean");
 * ```
 */
export function computeValueLoss(
  input: ValueLossInput,
  aggregation: LossAggregation = "token-mean",
  options: AggregateLossOptions = {},
): ValueLoss {
  const { values, oldValues, returns, mask } = input;
  const clipRange = input.clipRange === undefined ? 0.2 : input.clipRange;
  if (clipRange !== null && !(clipRange >= 0 && Number.isFinite(clipRange))) {
    throw new InvalidArgumentError(`clipRange must be a finite non-negative number, got ${clipRange}`, {
      field: "clipRange",
    });
  }
  return tf.tidy(() => {
    const unclippedError = tf.square(tf.sub(values, returns));
    if (clipRange === null) {
      return {
        loss: tf.mul(aggregateLoss(unclippedError, mask, aggregation, options), 0.5) as tf.Scalar,
        clipFraction: tf.scalar(0),
      };
    }
    const clippedValues = tf.add(oldValues, tf.clipByValue(tf.sub(values, oldValues), -clipRange, clipRange));
    const clippedError = tf.square(tf.sub(clippedValues, returns));
    const worst = tf.maximum(unclippedError, clippedError);
    return {
      loss: tf.mul(aggregateLoss(worst, mask, aggregation, options), 0.5) as tf.Scalar,
      clipFraction: maskedMean(
        tf.cast(tf.greater(clippedError, unclippedError), "float32"),
        mask,
      ) as tf.Scalar,
    };
  });
}
