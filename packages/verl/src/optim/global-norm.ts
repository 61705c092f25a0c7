import * as tf from "@tensorflow/tfjs";

/**
 * The global L2 norm `√Σ‖g‖²` of a list of gradients, as a scalar tensor (no device read): the quantity that
 * {@link clipByGlobalNorm} and the policy update clip by. 0 for an empty list.
 */
export function globalNorm(gradients: ReadonlyArray<tf.Tensor>): tf.Scalar {
  return tf.tidy(() =>
    gradients.length === 0
      ? tf.scalar(0)
      : (tf.sqrt(tf.addN(gradients.map((gradient) => tf.sum(tf.square(gradient))))) as tf.Scalar),
  );
}

/** The factor `min(1, maxNorm / (norm + 1e-6))` that brings a global norm down to at most `maxNorm`. */
export function clipScale(norm: number, maxNorm: number): number {
  return Math.min(1, maxNorm / (norm + 1e-6));
}
