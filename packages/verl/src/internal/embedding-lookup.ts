import * as tf from "@tensorflow/tfjs";

/**
 * Rows of `table [V, d]` at `ids [N]` (int32) → `[N, d]`. The forward pass is a gather; the gradient is
 * `oneHot(ids)ᵀ @ dy`, because the wasm backend has no kernel for tfjs's gather gradient
 * (UnsortedSegmentSum). The one-hot is built as int32 and cast, since wasm's float32 oneHot is wrong.
 */
export function embeddingLookup(table: tf.Tensor, ids: tf.Tensor): tf.Tensor {
  const rows = table.shape[0]!;
  const lookup = tf.customGrad(((weights: tf.Tensor, save: tf.GradSaveFunc) => {
    save([ids]);
    return {
      value: tf.gather(weights, ids),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const oneHotT = tf.transpose(tf.cast(tf.oneHot(saved[0] as tf.Tensor1D, rows), "float32"));
        return [tf.matMul(oneHotT, dy as tf.Tensor)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as (weights: tf.Tensor) => tf.Tensor;
  return lookup(table);
}
