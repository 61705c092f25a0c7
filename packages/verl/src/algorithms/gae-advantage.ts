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
    // The backward recursion, written as two batched [B, T, T] products so it costs a dozen ops instead of a
    // dozen per position (each op is a kernel launch on wasm). Only valid tokens take part: c_t counts the valid
    // tokens at positions ≥ t, the next valid token after a valid k is the valid j with c_j = c_k − 1, and a valid
    // k ≥ t lies c_t − c_k valid steps after t. Masked positions get 0 (their carried value is never used).
    const length = mask.shape[1] as number;
    const validFrom = tf.cumsum(mask, 1, false, true); // c [B, T]
    const rows = tf.expandDims(validFrom, 2); // c_t along axis 1
    const columns = tf.expandDims(validFrom, 1); // c_k along axis 2
    const validColumns = tf.expandDims(mask, 1); // m_k
    const positions = tf.range(0, length, 1, "float32");
    const later = tf.cast(tf.greater(tf.expandDims(positions, 0), tf.expandDims(positions, 1)), "float32"); // [k > t]
    // V'_k: the value of the next valid token after k (0 past the last one).
    const isNext = tf.mul(
      tf.mul(later, validColumns),
      tf.cast(tf.equal(columns, tf.sub(rows, 1)), "float32"),
    );
    const nextValue = tf.squeeze(tf.matMul(isNext, tf.expandDims(values, 2)), [2]);
    const deltas = tf.mul(tf.sub(tf.add(tokenRewards, tf.mul(nextValue, gamma)), values), mask);
    // A_t = Σ_{valid k ≥ t} (γλ)^{c_t − c_k} δ_k
    const notBefore = tf.add(later, tf.eye(length));
    const steps = tf.relu(tf.sub(rows, columns));
    const weights = tf.mul(tf.mul(tf.pow(tf.scalar(gamma * lambda), steps), notBefore), validColumns);
    const raw = tf.mul(tf.squeeze(tf.matMul(weights, tf.expandDims(deltas, 2)), [2]), mask);
    const returns = tf.mul(tf.add(raw, values), mask);
    const advantages = whiten ? maskedWhiten(raw, mask) : raw;
    return { advantages, returns };
  });
}
