import * as tf from "@tensorflow/tfjs";

/** The base of the rotary frequencies (RoFormer, GPT-NeoX, Llama). */
export const ROTARY_BASE = 10_000;

/** The cosines and sines `[N, d]` that rotate `N` rows of queries or keys (heads side by side) to their positions. */
export interface RotaryTables {
  cos: tf.Tensor2D;
  sin: tf.Tensor2D;
}

/**
 * The rotation angles of rotary position embeddings (RoPE, Su et al. 2021) for `positions [N]`: within each head of
 * `d / heads` channels, channel `j` and channel `j + headSize/2` form a pair that turns by
 * `position · ROTARY_BASE^(−2j / headSize)`. Pure functions of the positions: nothing here is trained.
 */
export function rotaryTables(positions: tf.Tensor1D, dModel: number, heads: number): RotaryTables {
  const headSize = dModel / heads;
  const half = Math.floor(headSize / 2);
  const frequencies = new Float32Array(dModel);
  for (let channel = 0; channel < dModel; channel++) {
    const j = channel % headSize;
    // An odd head size leaves its last channel unrotated (frequency 0: cos 1, sin 0).
    frequencies[channel] = j < 2 * half ? ROTARY_BASE ** ((-2 * (j % half)) / headSize) : 0;
  }
  return tf.tidy(() => {
    const angles = tf.mul(
      tf.reshape(tf.cast(positions, "float32"), [-1, 1]),
      tf.tensor2d(frequencies, [1, dModel]),
    ) as tf.Tensor2D;
    return { cos: tf.cos(angles), sin: tf.sin(angles) };
  });
}

/**
 * Rotates queries or keys `x [N, d]` (heads side by side) by their positions' {@link rotaryTables}:
 * `x·cos + rotateHalf(x)·sin`, where `rotateHalf` maps each head's pair `(a, b)` to `(−b, a)`. The dot product of a
 * rotated query and a rotated key then depends on their positions only through their distance. Differentiable
 * (slices, concatenation and element-wise products).
 */
export function applyRotary(x: tf.Tensor, tables: RotaryTables, heads: number): tf.Tensor {
  const [rows, d] = x.shape as [number, number];
  const headSize = d / heads;
  const half = Math.floor(headSize / 2);
  const split = tf.reshape(x, [rows, heads, headSize]);
  const first = tf.slice(split, [0, 0, 0], [rows, heads, half]);
  const second = tf.slice(split, [0, 0, half], [rows, heads, half]);
  const parts = [tf.neg(second), first];
  if (headSize > 2 * half) parts.push(tf.zerosLike(tf.slice(split, [0, 0, 2 * half], [rows, heads, 1])));
  const rotated = tf.reshape(tf.concat(parts, 2), [rows, d]);
  return tf.add(tf.mul(x, tables.cos), tf.mul(rotated, tables.sin));
}

/**
 * The rotation a model applies to its queries and keys at `positions [N]`: {@link applyRotary} when
 * `config.rotary` is on, the identity otherwise.
 */
export function positionRotation(
  config: { rotary: boolean; dModel: number; nHeads: number },
  positions: tf.Tensor1D | Int32Array,
): (x: tf.Tensor) => tf.Tensor {
  if (!config.rotary) return (x) => x;
  const ids = positions instanceof Int32Array ? tf.tensor1d(positions, "int32") : positions;
  const tables = rotaryTables(ids, config.dModel, config.nHeads);
  if (ids !== positions) ids.dispose();
  return (x) => applyRotary(x, tables, config.nHeads);
}
