import * as tf from "@tensorflow/tfjs";
import { maskedWhiten } from "./masked-statistics.js";
import { tokenGridShape } from "./token-grid.js";

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
 * The recursion runs on the host, in doubles, over the `[B, T]` values read back once (as the reference
 * implementations loop over positions): a handful of scalar steps per token instead of `[B, T, T]` tensor ops.
 *
 * @throws {InvalidArgumentError} naming `mask` when it is not `[B, T]`, or `tokenRewards`, `values` when of another shape.
 *
 * @example
 * ```ts
 * const { advantages, returns } = computeGaeAdvantage({ tokenRewards, values, mask, gamma: 1, lambda: 0.95 });
 * ```
 */
export function computeGaeAdvantage(input: GaeAdvantageInput): GaeAdvantageOutput {
  const { tokenRewards, values, mask, gamma = 1, lambda = 1, whiten = true } = input;
  const [batch, length] = tokenGridShape(mask, { tokenRewards, values });
  const r = tokenRewards.dataSync();
  const v = values.dataSync();
  const m = mask.dataSync();
  const raw = new Float32Array(batch * length);
  const returns = new Float32Array(batch * length);
  for (let b = 0; b < batch; b++) {
    let running = 0;
    let nextValue = 0;
    for (let t = length - 1; t >= 0; t--) {
      const at = b * length + t;
      if (m[at] === 0) continue;
      const value = v[at]!;
      running = r[at]! + gamma * nextValue - value + gamma * lambda * running;
      nextValue = value;
      raw[at] = running;
      returns[at] = running + value;
    }
  }
  return tf.tidy(() => {
    const rawAdvantages = tf.tensor2d(raw, [batch, length]);
    const advantages = whiten ? maskedWhiten(rawAdvantages, mask) : rawAdvantages;
    return { advantages, returns: tf.tensor2d(returns, [batch, length]) };
  });
}
