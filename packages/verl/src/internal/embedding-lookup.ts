import * as tf from "@tensorflow/tfjs";
import { fitsEmbedding, wasmEmbedding, wasmEmbeddingGrad } from "./embedding-kernels.js";
import { affine, weightGradient } from "./fast-matmul.js";
import { simdKernelsActive } from "./simd-kernels.js";

/**
 * Rows of `table [V, d]` at `ids [N]` (int32) → `[N, d]`; an id outside the table gives a row of zeros and takes
 * no gradient. On wasm with the package's kernels (and `d` a multiple of 4) the rows are copied and their gradient
 * added at the ids (`embedding-kernels.ts`). Elsewhere it is `oneHot(ids) @ table` with the gradient
 * `oneHot(ids)ᵀ @ dy`: on wasm an order of magnitude faster than `gather`, whose gradient needs
 * UnsortedSegmentSum, which wasm lacks; the one-hot is built as int32 and cast, since wasm's float32 oneHot is
 * wrong.
 */
export function embeddingLookup(table: tf.Tensor, ids: tf.Tensor): tf.Tensor {
  const rows = table.shape[0]!;
  if (simdKernelsActive() && fitsEmbedding(table, ids)) {
    const copied = tf.customGrad(((weights: tf.Tensor, save: tf.GradSaveFunc) => {
      // Saved (kept alive) for the backward pass: the caller may dispose of its ids before.
      save([ids]);
      return {
        value: wasmEmbedding(weights, ids),
        gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => [
          wasmEmbeddingGrad(saved[0] as tf.Tensor, dy as tf.Tensor, rows),
        ],
      };
    }) as unknown as Parameters<typeof tf.customGrad>[0]) as (weights: tf.Tensor) => tf.Tensor;
    return copied(table);
  }
  const lookup = tf.customGrad(((weights: tf.Tensor, save: tf.GradSaveFunc) => {
    const oneHot = tf.cast(tf.oneHot(ids as tf.Tensor1D, rows), "float32");
    save([oneHot]);
    return {
      value: affine(oneHot, weights),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => [
        weightGradient(saved[0] as tf.Tensor, dy as tf.Tensor),
      ],
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as (weights: tf.Tensor) => tf.Tensor;
  return lookup(table);
}
