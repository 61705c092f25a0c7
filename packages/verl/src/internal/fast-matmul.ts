import * as tf from "@tensorflow/tfjs";
import { columnSum, transposeLastTwo } from "./fast-transpose.js";
import { fitsWeightGrad, simdKernelsActive, simdWeightGrad } from "./simd-kernels.js";

type CustomGradFunction = Parameters<typeof tf.customGrad>[0];

/**
 * The weight gradient `xᵀ @ dy` of a 2-D product (`x [N, k]`, `dy [N, m]`): on wasm one SIMD kernel reading
 * both in place (a transposed copy of one and XNNPACK's packed copy of the other cost more than the product);
 * elsewhere transposing whichever of the two tall matrices is narrower: `(dyᵀ @ x)ᵀ` when `m < k` (the last
 * transpose is only `[m, k]`).
 */
export function weightGradient(x: tf.Tensor, dy: tf.Tensor): tf.Tensor {
  if (simdKernelsActive() && fitsWeightGrad(x, dy)) {
    const [weight, bias] = simdWeightGrad(x, dy);
    bias.dispose();
    return weight;
  }
  if (x.rank === 2 && dy.rank === 2 && dy.shape[1]! < x.shape[1]!) {
    return transposeLastTwo(tf.matMul(transposeLastTwo(dy), x));
  }
  return tf.matMul(transposeLastTwo(x), dy);
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
      return [tf.matMul(g, transposeLastTwo(sb)), weightGradient(sa, g)];
    },
  };
}) as unknown as CustomGradFunction) as (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;

/**
 * A dense layer `x @ w + bias` for `x [N, k]`, `w [k, m]`, `bias [m]`: one fused matmul-with-bias forward,
 * and a gradient with explicit transposes whose weight and bias parts come from one SIMD pass on wasm.
 */
export const dense = tf.customGrad(((x: tf.Tensor, w: tf.Tensor, bias: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x, w]);
  return {
    value: tf.fused.matMul({ a: x as tf.Tensor2D, b: w as tf.Tensor2D, bias }),
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const [sx, sw] = saved as [tf.Tensor, tf.Tensor];
      const g = dy as tf.Tensor;
      const dx = tf.matMul(g, transposeLastTwo(sw));
      if (simdKernelsActive() && fitsWeightGrad(sx, g)) return [dx, ...simdWeightGrad(sx, g)];
      return [dx, weightGradient(sx, g), columnSum(g)];
    },
  };
}) as unknown as CustomGradFunction) as (x: tf.Tensor, w: tf.Tensor, bias: tf.Tensor) => tf.Tensor;
