import * as tf from "@tensorflow/tfjs";

/**
 * The position of every token of `[B, L]` rows, flattened to `[B·L]` (int32): positions count real tokens only, so
 * a left-padded row's first real token is at 0 (padding sits at 0 too; it is masked out of attention). Without a
 * mask every row counts 0 … L−1.
 */
export function tokenPositions(mask: tf.Tensor | undefined, batch: number, length: number): tf.Tensor1D {
  if (mask === undefined) return tf.tile(tf.range(0, length, 1, "int32"), [batch]) as tf.Tensor1D;
  return tf.reshape(tf.cast(tf.relu(tf.sub(tf.cumsum(mask, 1), 1)), "int32"), [
    batch * length,
  ]) as tf.Tensor1D;
}
