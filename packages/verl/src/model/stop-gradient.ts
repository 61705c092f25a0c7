import * as tf from "@tensorflow/tfjs";

type CustomGradFunction = Parameters<typeof tf.customGrad>[0];

/**
 * The identity in the forward pass that passes no gradient back (TensorFlow's `stop_gradient`, PyTorch's
 * `detach`): whatever is computed from the result trains only what comes after it. The caller owns the result.
 */
export const stopGradient = tf.customGrad(((input: tf.Tensor) => ({
  value: tf.clone(input),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
})) as unknown as CustomGradFunction) as (input: tf.Tensor) => tf.Tensor;
