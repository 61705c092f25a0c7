import * as tf from "@tensorflow/tfjs";
import { maskedWhiten } from "./masked-statistics.js";

/** Inputs of {@link computeReinforcePlusPlusAdvantage}. */
export interface ReinforcePlusPlusInput {
  /** `[B, T]` token rewards (score on the last valid token, minus the per-token KL penalty when KL is in the reward). */
  tokenRewards: tf.Tensor;
  /** `[B, T]` 1 on valid response tokens. */
  mask: tf.Tensor;
  /** Discount factor γ. @default 1 */
  gamma?: number;
}

/** Output of {@link computeReinforcePlusPlusAdvantage}; the caller owns both tensors. */
export interface ReinforcePlusPlusOutput {
  /** `[B, T]` returns whitened over all valid tokens of the batch, 0 on masked positions. */
  advantages: tf.Tensor;
  /** `[B, T]` discounted returns G_t = Σ_{k≥t} γ^{k−t} r_k before whitening. */
  returns: tf.Tensor;
}

/**
 * REINFORCE++ (verl/OpenRLHF `reinforce`): discounted token returns computed backward, reset after the end of each
 * response (a masked token zeroes the running return), then whitened over every valid token of the batch. No critic.
 *
 * @example
 * ```ts
 * const { advantages } = computeReinforcePlusPlusAdvantage({ tokenRewards, mask, gamma: 1 });
 * ```
 */
export function computeReinforcePlusPlusAdvantage(input: ReinforcePlusPlusInput): ReinforcePlusPlusOutput {
  const { tokenRewards, mask, gamma = 1 } = input;
  return tf.tidy(() => {
    // G_t = Σ_{k ≥ t} γ^{k−t} r_k over the tokens up to the next masked one (the running return is reset there),
    // as one batched [B, T, T] product: Z counts masked tokens up to each position, and k is reachable from t when
    // no masked token lies in (t, k], i.e. Z_k = Z_t.
    const length = mask.shape[1] as number;
    const maskedSoFar = tf.cumsum(tf.sub(1, mask), 1);
    const sameRun = tf.cast(
      tf.equal(tf.expandDims(maskedSoFar, 1), tf.expandDims(maskedSoFar, 2)),
      "float32",
    );
    const positions = tf.range(0, length, 1, "float32");
    const distance = tf.sub(tf.expandDims(positions, 0), tf.expandDims(positions, 1)); // k − t
    const discount = tf.mul(
      tf.pow(tf.scalar(gamma), tf.relu(distance)),
      tf.cast(tf.greaterEqual(distance, 0), "float32"),
    );
    const weights = tf.mul(sameRun, discount);
    const returns = tf.mul(tf.squeeze(tf.matMul(weights, tf.expandDims(tokenRewards, 2)), [2]), mask);
    return { advantages: maskedWhiten(returns, mask), returns };
  });
}

/**
 * REINFORCE++ with a group baseline (verl `reinforce_plus_plus_baseline`): each response's score minus the mean
 * score of its prompt's group, broadcast to its valid tokens, then whitened over the batch.
 *
 * @param scores `[B]` sequence scores, groups of `groupSize` contiguous
 * @param mask `[B, T]`
 * @returns `[B, T]` advantages, 0 on masked positions
 */
export function computeReinforcePlusPlusBaselineAdvantage(input: {
  scores: tf.Tensor;
  mask: tf.Tensor;
  groupSize: number;
}): tf.Tensor2D {
  const { scores, mask, groupSize } = input;
  return tf.tidy(() => {
    const batch = scores.shape[0] as number;
    const grid = tf.reshape(scores, [batch / groupSize, groupSize]);
    const centred = groupSize === 1 ? grid : tf.sub(grid, tf.mean(grid, 1, true));
    const perToken = tf.mul(tf.reshape(centred, [batch, 1]), mask);
    return maskedWhiten(perToken, mask) as tf.Tensor2D;
  });
}
