import * as tf from "@tensorflow/tfjs";

type CustomGradFunction = Parameters<typeof tf.customGrad>[0];

const c = Math.sqrt(2 / Math.PI);
const a = 0.044715;

/**
 * GELU, tanh approximation (as GPT-2): `0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³)))`, computed as the equal
 * `x · sigmoid(2u)` (wasm's sigmoid is ~20× faster than its tanh), with a closed-form gradient.
 */
export const gelu = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  const square = tf.mul(x, x);
  const u2 = tf.mul(x, tf.add(tf.mul(square, 2 * c * a), 2 * c));
  const s = tf.sigmoid(u2);
  save([x, square, s]);
  return {
    value: tf.mul(x, s),
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const [sx, sq, ss] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
      // d/dx [x σ(2u)] = σ + x · σ(1 − σ) · 2u', with 2u' = 2c (1 + 3a x²).
      const du2 = tf.add(tf.mul(sq, 6 * c * a), 2 * c);
      const local = tf.add(ss, tf.mul(tf.mul(sx, tf.mul(ss, tf.sub(1, ss))), du2));
      return [tf.mul(dy as tf.Tensor, local)];
    },
  };
}) as unknown as CustomGradFunction) as (x: tf.Tensor) => tf.Tensor;

/** GELU (same formula as {@link gelu}) without the custom-gradient wrapper, for inference paths. */
export function geluInference(x: tf.Tensor): tf.Tensor {
  const u2 = tf.mul(x, tf.add(tf.mul(tf.mul(x, x), 2 * c * a), 2 * c));
  return tf.mul(x, tf.sigmoid(u2));
}
