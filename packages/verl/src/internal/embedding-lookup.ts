import * as tf from "@tensorflow/tfjs";
import { affine, weightGradient } from "./fast-matmul.js";

/**
 * Rows of `table [V, d]` at `ids [N]` (int32) → `[N, d]`, computed as `oneHot(ids) @ table` with the
 * gradient `oneHot(ids)ᵀ @ dy`. On wasm this is an order of magnitude faster than `gather`, and tfjs's gather
 * gradient needs UnsortedSegmentSum, which wasm lacks. The one-hot is built as int32 and cast, since wasm's
 * float32 oneHot is wrong.
 */
export function embeddingLookup(table: tf.Tensor, ids: tf.Tensor): tf.Tensor {
  const rows = table.shape[0]!;
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
