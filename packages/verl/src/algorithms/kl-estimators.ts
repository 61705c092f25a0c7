import { InvalidArgumentError } from "@orbiter/types";
import * as tf from "@tensorflow/tfjs";

/**
 * Per-token estimators of KL(π‖π_ref) from the log-probabilities of the sampled tokens (Schulman, "Approximating
 * KL Divergence"), with d = logπ − logπ_ref:
 * - `k1` (verl `kl`): d — unbiased, can be negative per token; use it when KL goes into the reward.
 * - `abs`: |d|.
 * - `k2` (verl `mse`): ½·d² — non-negative, its gradient is the true KL gradient.
 * - `k3` (verl `low_var_kl`): e^{−d} − 1 + d — non-negative, unbiased, low variance; use it as a loss.
 */
export const KlEstimator = { K1: "k1", ABS: "abs", K2: "k2", K3: "k3" } as const;

/** One of the {@link KlEstimator} values. */
export type KlEstimator = (typeof KlEstimator)[keyof typeof KlEstimator];

/** Options of {@link estimateKl}. */
export interface EstimateKlOptions {
  /**
   * verl's safety clamp for `k3`: −d is clamped to [−20, 20] and the result to [−10, 10]. TRL and OpenRLHF do not
   * clamp. Ignored by the other estimators.
   * @default false
   */
  clamp?: boolean;
}

/**
 * Per-token KL estimate between the policy and the reference model (same shape as the inputs). Differentiable
 * with respect to `logProbs`; aggregate it with {@link aggregateLoss} to use it as a loss.
 *
 * @param logProbs log π(a_t) of the sampled tokens under the policy, any shape
 * @param refLogProbs log π_ref(a_t) under the frozen reference, same shape
 * @example
 * ```ts
 * const kl = estimateKl(logProbs, refLogProbs, "k3");
 * ```
 */
export function estimateKl(
  logProbs: tf.Tensor,
  refLogProbs: tf.Tensor,
  estimator: KlEstimator,
  options: EstimateKlOptions = {},
): tf.Tensor {
  return tf.tidy(() => {
    const difference = tf.sub(logProbs, refLogProbs);
    switch (estimator) {
      case "k1":
        return difference;
      case "abs":
        return tf.abs(difference);
      case "k2":
        return tf.mul(tf.square(difference), 0.5);
      case "k3": {
        // e^{−d} − 1 + d, written with the reverse log-ratio r = −d as verl does: e^{r} − r − 1.
        const reverse = options.clamp ? tf.clipByValue(tf.neg(difference), -20, 20) : tf.neg(difference);
        const value = tf.sub(tf.sub(tf.exp(reverse), reverse), 1);
        return options.clamp ? tf.clipByValue(value, -10, 10) : value;
      }
      default:
        throw new InvalidArgumentError(`Unknown KL estimator "${String(estimator)}"`, { field: "estimator" });
    }
  });
}
