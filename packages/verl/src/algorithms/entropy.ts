import * as tf from "@tensorflow/tfjs";

/**
 * Entropy of the categorical distribution given by `logits` along the last axis (verl `entropy_from_logits`):
 * H = logsumexp(z) − Σ_v softmax(z)_v·z_v. Divide the logits by the sampling temperature first if needed.
 *
 * @param logits `[..., V]`
 * @returns `[...]` entropy in nats
 */
export function entropyFromLogits(logits: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const axis = logits.rank - 1;
    const normaliser = tf.logSumExp(logits, axis);
    const probabilities = tf.softmax(logits, axis);
    return tf.sub(normaliser, tf.sum(tf.mul(probabilities, logits), axis));
  });
}
