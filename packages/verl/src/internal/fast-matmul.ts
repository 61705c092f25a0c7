import * as tf from "@tensorflow/tfjs";

/** Swaps the last two axes with an explicit transpose (copy), which is much faster on wasm than transposeA/B. */
export function transposeLastTwo(x: tf.Tensor): tf.Tensor {
  const rank = x.rank;
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return tf.transpose(x, perm);
}

/**
 * `a @ b` (2-D, or batched with equal leading axes) whose gradient uses explicit transposes:
 * `da = dy @ bᵀ`, `db = aᵀ @ dy`. tfjs's own gradient calls matMul with transposeA/transposeB, which the wasm
 * backend runs 10–17× slower than a copy followed by a plain product.
 */
export const matMul = tf.customGrad(((a: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
  save([a, b]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const [sa, sb] = saved as [tf.Tensor, tf.Tensor];
      const g = dy as tf.Tensor;
      return [tf.matMul(g, transposeLastTwo(sb)), tf.matMul(transposeLastTwo(sa), g)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;

/** `x @ w + bias` for `x [N, k]`, `w [k, m]`, `bias [m]`, with the fast gradient of {@link matMul}. */
export function dense(x: tf.Tensor, w: tf.Tensor, bias?: tf.Tensor): tf.Tensor {
  const product = matMul(x, w);
  return bias === undefined ? product : tf.add(product, bias);
}
