import * as tf from "@tensorflow/tfjs";
import { columnSum, transposeLastTwo } from "./fast-transpose.js";
import {
  fitsMatMul,
  fitsWeightGrad,
  simdKernelsActive,
  simdMatMul,
  simdWeightGrad,
  simdWeightGradOnly,
} from "./simd-kernels.js";

/**
 * `a @ b (+ bias) (+ residual)` for 2-D operands (or batched `a @ b` without a bias): the SIMD kernel on wasm when
 * the shapes fit (n % 4, m % 8; the residual added in the same pass), else tfjs (fused with the bias). No custom
 * gradient: used inside gradients and for inference.
 */
export function affine(
  a: tf.Tensor,
  b: tf.Tensor,
  bias: tf.Tensor | null = null,
  residual: tf.Tensor | null = null,
): tf.Tensor {
  if (simdKernelsActive() && fitsMatMul(a, b, bias, residual)) return simdMatMul(a, b, bias, residual);
  const product =
    bias === null ? tf.matMul(a, b) : tf.fused.matMul({ a: a as tf.Tensor2D, b: b as tf.Tensor2D, bias });
  return residual === null ? product : tf.add(residual, product);
}

type CustomGradFunction = Parameters<typeof tf.customGrad>[0];

/**
 * The weight gradient `xᵀ @ dy` of a 2-D product (`x [N, k]`, `dy [N, m]`): on wasm one SIMD kernel reading
 * both in place (a transposed copy of one and XNNPACK's packed copy of the other cost more than the product);
 * elsewhere transposing whichever of the two tall matrices is narrower: `(dyᵀ @ x)ᵀ` when `m < k` (the last
 * transpose is only `[m, k]`).
 */
export function weightGradient(x: tf.Tensor, dy: tf.Tensor): tf.Tensor {
  if (simdKernelsActive() && fitsWeightGrad(x, dy)) return simdWeightGradOnly(x, dy);
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
    value: affine(a, b),
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const [sa, sb] = saved as [tf.Tensor, tf.Tensor];
      const g = dy as tf.Tensor;
      return [affine(g, transposeLastTwo(sb)), weightGradient(sa, g)];
    },
  };
}) as unknown as CustomGradFunction) as (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;

/**
 * The gradients of `x @ w + bias` for `x`, `w` and `bias` from `dy`: `dy @ wᵀ`, then `xᵀ @ dy` and the column sums
 * of `dy` (one SIMD pass for both on wasm).
 */
function denseGradients(x: tf.Tensor, w: tf.Tensor, dy: tf.Tensor): tf.Tensor[] {
  const dx = affine(dy, transposeLastTwo(w));
  if (simdKernelsActive() && fitsWeightGrad(x, dy)) return [dx, ...simdWeightGrad(x, dy)];
  return [dx, weightGradient(x, dy), columnSum(dy)];
}

/**
 * A dense layer `x @ w + bias` for `x [N, k]`, `w [k, m]`, `bias [m]`: one matmul-with-bias forward,
 * and a gradient with explicit transposes whose weight and bias parts come from one SIMD pass on wasm.
 */
export const dense = tf.customGrad(((x: tf.Tensor, w: tf.Tensor, bias: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x, w]);
  return {
    value: affine(x, w, bias),
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const [sx, sw] = saved as [tf.Tensor, tf.Tensor];
      return denseGradients(sx, sw, dy as tf.Tensor);
    },
  };
}) as unknown as CustomGradFunction) as (x: tf.Tensor, w: tf.Tensor, bias: tf.Tensor) => tf.Tensor;

/**
 * `residual + x @ w + bias`, a dense layer on a residual connection: on wasm one SIMD pass (the residual and the
 * bias start the accumulators), with {@link dense}'s gradient and `dy` for the residual.
 */
export const denseResidual = tf.customGrad(((
  x: tf.Tensor,
  w: tf.Tensor,
  bias: tf.Tensor,
  residual: tf.Tensor,
  save: tf.GradSaveFunc,
) => {
  save([x, w]);
  return {
    value: affine(x, w, bias, residual),
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const [sx, sw] = saved as [tf.Tensor, tf.Tensor];
      const g = dy as tf.Tensor;
      return [...denseGradients(sx, sw, g), g];
    },
  };
}) as unknown as CustomGradFunction) as (
  x: tf.Tensor,
  w: tf.Tensor,
  bias: tf.Tensor,
  residual: tf.Tensor,
) => tf.Tensor;
