import * as tf from "@tensorflow/tfjs";

const sqrtTwoOverPi = Math.sqrt(2 / Math.PI);

/** GELU, tanh approximation (as GPT-2): `0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³)))`. */
export function gelu(x: tf.Tensor): tf.Tensor {
  const inner = tf.mul(tf.add(x, tf.mul(tf.mul(tf.mul(x, x), x), 0.044715)), sqrtTwoOverPi);
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
}
