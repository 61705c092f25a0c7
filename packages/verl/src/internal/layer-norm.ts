import * as tf from "@tensorflow/tfjs";

/** Layer normalisation over the last axis: `(x - mean) / sqrt(var + eps) * gain + bias`. */
export function layerNorm(x: tf.Tensor, gain: tf.Tensor, bias: tf.Tensor, epsilon: number): tf.Tensor {
  const axis = x.rank - 1;
  const { mean, variance } = tf.moments(x, axis, true);
  const normalised = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, epsilon)));
  return tf.add(tf.mul(normalised, gain), bias);
}
