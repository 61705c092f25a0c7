import * as tf from "@tensorflow/tfjs";
import { fitsColumnSums, simdColumnSums, simdKernelsActive } from "./simd-kernels.js";

/**
 * Transposes a matrix `[n, m]` → `[m, n]`. On wasm a plain 2-D transpose of a tall matrix is 3–6× slower than
 * the same permutation written as a 3-D one (`[n, m/c, c]` → `[m/c, c, n]`), so that form is used when the
 * column count allows it. The values are identical either way.
 */
export function transpose2d(x: tf.Tensor): tf.Tensor {
  const [rows, columns] = x.shape as [number, number];
  for (const chunk of [32, 16, 8]) {
    if (columns % chunk === 0 && columns / chunk >= 2 && rows >= 256) {
      return tf.reshape(tf.transpose(tf.reshape(x, [rows, columns / chunk, chunk]), [1, 2, 0]), [
        columns,
        rows,
      ]);
    }
  }
  return tf.transpose(x);
}

/** Swaps the last two axes (explicit copy): batched matrices `[..., n, m]` → `[..., m, n]`. */
export function transposeLastTwo(x: tf.Tensor): tf.Tensor {
  if (x.rank === 2) return transpose2d(x);
  const perm = Array.from({ length: x.rank }, (_, i) => i);
  perm[x.rank - 2] = x.rank - 1;
  perm[x.rank - 1] = x.rank - 2;
  return tf.transpose(x, perm);
}

/**
 * Column sums of a matrix `[n, m]` → `[m]`: one SIMD pass on wasm, else `ones[1, n] @ x` (far faster on wasm
 * than `sum(x, 0)`, which transposes first).
 */
export function columnSum(x: tf.Tensor): tf.Tensor {
  if (simdKernelsActive() && fitsColumnSums(x)) return simdColumnSums(x);
  const [rows, columns] = x.shape as [number, number];
  return tf.reshape(tf.matMul(tf.ones([1, rows]), x), [columns]);
}
