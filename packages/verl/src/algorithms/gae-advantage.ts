import * as tf from "@tensorflow/tfjs";
import { maskedWhiten } from "./masked-statistics.js";

/** Inputs of {@link computeGaeAdvantage}. */
export interface GaeAdvantageInput {
  /** `[B, T]` reward of every response token (score on the last valid token, minus any KL penalty). */
  tokenRewards: tf.Tensor;
  /** `[B, T]` value estimates V(s_t) of the critic at rollout time. */
  values: tf.Tensor;
  /** `[B, T]` 1 on valid response tokens; 0 on padding and on tool/observation tokens. */
  mask: tf.Tensor;
  /** Discount factor γ. @default 1 */
  gamma?: number;
  /** GAE trace parameter λ. @default 1 */
  lambda?: number;
  /** Whiten the advantages over the valid tokens of the batch (verl, TRL PPO). @default true */
  whiten?: boolean;
}

/** Output of {@link computeGaeAdvantage}; the caller owns (and disposes) both tensors. */
export interface GaeAdvantageOutput {
  /** `[B, T]` advantages (whitened when asked), 0 on masked positions. */
  advantages: tf.Tensor;
  /** `[B, T]` returns A + V before whitening, the value-loss target; 0 on masked positions. */
  returns: tf.Tensor;
}

/**
 * Generalised advantage estimation (verl `compute_gae_advantage_return`). Runs the backward recursion
 * δ_t = r_t + γ·V' − V_t, a ← δ_t + γλ·a over t = T−1 … 0 with no bootstrap past the end; on a masked token
 * the running advantage and next value are carried through unchanged, so padding never leaks and multi-turn
 * observation tokens are skipped. Returns R = A + V; the advantages are then whitened with the unbiased variance.
 *
 * @example
 * ```ts
 * const { advantages, returns } = computeGaeAdvantage({ tokenRewards, values, mask, gamma: 1, lambda: 0.95 });
 * ```
 */
export function computeGaeAdvantage(input: GaeAdvantageInput): GaeAdvantageOutput {
  const { tokenRewards, values, mask, gamma = 1, lambda = 1, whiten = true } = input;
  return tf.tidy(() => {
    const rewardColumns = tf.unstack(tokenRewards, 1);
    const valueColumns = tf.unstack(values, 1);
    const maskColumns = tf.unstack(mask, 1);
    const length = rewardColumns.length;
    const batch = tokenRewards.shape[0] as number;
    let nextValue: tf.Tensor = tf.zeros([batch]);
    let running: tf.Tensor = tf.zeros([batch]);
    const columns: tf.Tensor[] = new Array(length);
    for (let t = length - 1; t >= 0; t--) {
      const reward = rewardColumns[t] as tf.Tensor;
      const value = valueColumns[t] as tf.Tensor;
      const valid = maskColumns[t] as tf.Tensor;
      const delta = tf.sub(tf.add(reward, tf.mul(nextValue, gamma)), value);
      const candidate = tf.add(delta, tf.mul(running, gamma * lambda));
      // Carry the running advantage and next value through masked tokens: x ← x + m·(new − x).
      running = tf.add(running, tf.mul(valid, tf.sub(candidate, running)));
      nextValue = tf.add(nextValue, tf.mul(valid, tf.sub(value, nextValue)));
      columns[t] = running;
    }
    const raw = tf.stack(columns, 1);
    const returns = tf.mul(tf.add(raw, values), mask);
    const advantages = whiten ? maskedWhiten(raw, mask) : tf.mul(raw, mask);
    return { advantages, returns };
  });
}
