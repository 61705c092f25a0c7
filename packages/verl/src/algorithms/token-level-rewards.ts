import * as tf from "@tensorflow/tfjs";

/** Inputs of {@link computeTokenLevelRewards}. */
export interface TokenLevelRewardsInput {
  /** `[B]` sequence score of every response. */
  scores: tf.Tensor;
  /** `[B, T]` 1 on valid response tokens. */
  mask: tf.Tensor;
  /** `[B, T]` per-token KL estimate, when KL is placed in the reward. */
  kl?: tf.Tensor;
  /** KL coefficient β. @default 0 */
  klCoef?: number;
}

/**
 * Token-level rewards for PPO (verl `apply_kl_penalty` with the naive reward manager): the score s_i sits on the
 * last valid token of response i, and r_{i,t} = s_i·[t = last] − β·KL_{i,t} on valid tokens. A response without any
 * valid token receives nothing.
 *
 * @returns `[B, T]` rewards, 0 on masked positions
 */
export function computeTokenLevelRewards(input: TokenLevelRewardsInput): tf.Tensor2D {
  const { scores, mask, kl, klCoef = 0 } = input;
  return tf.tidy(() => {
    const length = mask.shape[1] as number;
    // The last valid token is the valid position with the largest index: argmax of m_t·(t + 1).
    const positions = tf.add(tf.range(0, length, 1, "float32"), 1);
    const last = tf.argMax(tf.mul(mask, positions), 1);
    const hasTokens = tf.cast(tf.greater(tf.sum(mask, 1), 0), "float32");
    const onLast = tf.cast(
      tf.equal(tf.expandDims(last, 1), tf.expandDims(tf.range(0, length, 1, "int32"), 0)),
      "float32",
    );
    let rewards = tf.mul(onLast, tf.expandDims(tf.mul(scores, hasTokens), 1));
    if (kl && klCoef !== 0) rewards = tf.sub(rewards, tf.mul(tf.mul(kl, mask), klCoef));
    return rewards as tf.Tensor2D;
  });
}
