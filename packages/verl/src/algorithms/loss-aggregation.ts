import { InvalidArgumentError } from "@orbiter/types";
import * as tf from "@tensorflow/tfjs";

/**
 * How per-token losses are reduced to one number (verl `loss_agg_mode`).
 * - `token-mean`: every valid token of the batch weighs the same (DAPO; verl and OpenRLHF default).
 * - `seq-mean-token-sum`: sum over each sequence's tokens, mean over sequences.
 * - `seq-mean-token-mean`: mean over each sequence's tokens, then mean over sequences (original GRPO).
 * - `seq-mean-token-sum-norm`: total over the batch divided by a constant (Dr. GRPO; by default the padded length).
 */
export const LossAggregation = {
  TOKEN_MEAN: "token-mean",
  SEQ_MEAN_TOKEN_SUM: "seq-mean-token-sum",
  SEQ_MEAN_TOKEN_MEAN: "seq-mean-token-mean",
  SEQ_MEAN_TOKEN_SUM_NORM: "seq-mean-token-sum-norm",
} as const;

/** One of the {@link LossAggregation} values. */
export type LossAggregation = (typeof LossAggregation)[keyof typeof LossAggregation];

/** Options of {@link aggregateLoss}. */
export interface AggregateLossOptions {
  /**
   * For `seq-mean-token-sum-norm` only: the constant the batch total is divided by (verl `loss_scale_factor`).
   * @default the padded response length T
   */
  normalizer?: number;
}

/**
 * Reduces a per-token loss `[B, T]` to a scalar with the given aggregation mode, counting only positions where
 * `mask` is 1. Sequences without any valid token are left out of the sequence means; an all-masked batch gives 0.
 *
 * @param losses `[B, T]` per-token loss
 * @param mask `[B, T]` 1 = valid token
 * @example
 * ```ts
 * const loss = aggregateLoss(perToken, mask, "token-mean");
 * ```
 */
export function aggregateLoss(
  losses: tf.Tensor,
  mask: tf.Tensor,
  mode: LossAggregation,
  options: AggregateLossOptions = {},
): tf.Scalar {
  if (losses.rank !== 2) {
    throw new InvalidArgumentError(`aggregateLoss expects losses of rank 2 [B, T], got rank ${losses.rank}`, {
      field: "losses",
    });
  }
  return tf.tidy(() => {
    const masked = tf.mul(losses, mask);
    switch (mode) {
      case "token-mean":
        return tf.div(tf.sum(masked), tf.maximum(tf.sum(mask), 1)) as tf.Scalar;
      case "seq-mean-token-sum":
      case "seq-mean-token-mean": {
        const tokens = tf.sum(mask, 1);
        const sequenceTotals = tf.sum(masked, 1);
        const perSequence =
          mode === "seq-mean-token-sum" ? sequenceTotals : tf.div(sequenceTotals, tf.maximum(tokens, 1));
        const sequences = tf.maximum(tf.sum(tf.cast(tf.greater(tokens, 0), "float32")), 1);
        return tf.div(tf.sum(perSequence), sequences) as tf.Scalar;
      }
      case "seq-mean-token-sum-norm": {
        const normalizer = options.normalizer ?? (losses.shape[1] as number);
        if (!(normalizer > 0)) {
          throw new InvalidArgumentError(`normalizer must be positive, got ${normalizer}`, {
            field: "normalizer",
          });
        }
        return tf.div(tf.sum(masked), normalizer) as tf.Scalar;
      }
      default:
        throw new InvalidArgumentError(`Unknown loss aggregation mode "${String(mode)}"`, { field: "mode" });
    }
  });
}
