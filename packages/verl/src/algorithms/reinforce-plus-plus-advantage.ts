import * as tf from "@tensorflow/tfjs";
import { maskedWhiten } from "./masked-statistics.js";
import { tokenGridShape } from "./token-grid.js";

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
 * The recursion G_t = r_t + γ·G_{t+1} runs on the host, in doubles, over the `[B, T]` rewards and mask read back
 * once (as the reference implementations loop over positions), instead of a `[B, T, T]` tensor of weights.
 *
 * @throws {InvalidArgumentError} naming `mask` when it is not `[B, T]`, or `tokenRewards` when of another shape.
 *
 * @example
 * ```ts
 * const { advantages } = computeReinforcePlusPlusAdvantage({ tokenRewards, mask, gamma: 1 });
 * ```
 */
export function computeReinforcePlusPlusAdvantage(input: ReinforcePlusPlusInput): ReinforcePlusPlusOutput {
  const { tokenRewards, mask, gamma = 1 } = input;
  const [batch, length] = tokenGridShape(mask, { tokenRewards });
  const r = tokenRewards.dataSync();
  const m = mask.dataSync();
  const returns = new Float32Array(batch * length);
  for (let b = 0; b < batch; b++) {
    let running = 0;
    for (let t = length - 1; t >= 0; t--) {
      const at = b * length + t;
      // A masked token holds no return and cuts the sum: rewards after it never reach the tokens before it.
      if (m[at] === 0) {
        running = 0;
        continue;
      }
      running = r[at]! + gamma * running;
      returns[at] = running;
    }
  }
  return tf.tidy(() => {
    const returnsTensor = tf.tensor2d(returns, [batch, length]);
    return { advantages: maskedWhiten(returnsTensor, mask), returns: returnsTensor };
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
