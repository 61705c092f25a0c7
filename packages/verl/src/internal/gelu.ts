import * as tf from "@tensorflow/tfjs";
import { fitsElementWise, simdGelu, simdGeluGrad, simdKernelsActive } from "./simd-kernels.js";

type CustomGradFunction = Parameters<typeof tf.customGrad>[0];

const c = Math.sqrt(2 / Math.PI);
const a = 0.044715;

/**
 * GELU, tanh approximation (as GPT-2): `0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³)))`, computed as the equal
 * `x · sigmoid(2u)` (wasm's sigmoid is ~20× faster than its tanh), with a closed-form gradient. On wasm both
 * directions are one fused SIMD pass each (`simd-kernels.ts`) instead of a chain of element-wise kernels.
 */
export const gelu = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  // Only x is saved (tfjs copies every saved tensor); the backward pass recomputes σ(2u) cheaply.
  save([x]);
  return {
    value: geluInference(x),
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const sx = saved[0] as tf.Tensor;
      if (simdKernelsActive() && fitsElementWise(sx)) return [simdGeluGrad(sx, dy as tf.Tensor)];
      const square = tf.mul(sx, sx);
      const s = tf.sigmoid(tf.mul(sx, tf.add(tf.mul(square, 2 * c * a), 2 * c)));
      // d/dx [x σ(2u)] = σ + x · σ(1 − σ) · 2u', with 2u' = 2c (1 + 3a x²).
      const du2 = tf.add(tf.mul(square, 6 * c * a), 2 * c);
      const local = tf.add(s, tf.mul(tf.mul(sx, tf.mul(s, tf.sub(1, s))), du2));
      return [tf.mul(dy as tf.Tensor, local)];
    },
  };
}) as unknown as CustomGradFunction) as (x: tf.Tensor) => tf.Tensor;

/** GELU (same formula as {@link gelu}) without the custom-gradient wrapper, for inference paths. */
export function geluInference(x: tf.Tensor): tf.Tensor {
  if (simdKernelsActive() && fitsElementWise(x)) return simdGelu(x);
  const u2 = tf.mul(x, tf.add(tf.mul(tf.mul(x, x), 2 * c * a), 2 * c));
  return tf.mul(x, tf.sigmoid(u2));
}
