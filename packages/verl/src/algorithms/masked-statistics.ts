import * as tf from "@tensorflow/tfjs";

/**
 * Mean of `values` over the positions where `mask` is 1 (all axes, or one axis). A slice with no valid position
 * gives 0 rather than NaN.
 *
 * @param values any shape, float32
 * @param mask same shape as `values`, 1 = valid, 0 = ignored
 * @param axis reduce along this axis only; omitted = reduce everything to a scalar
 */
export function maskedMean(values: tf.Tensor, mask: tf.Tensor, axis?: number): tf.Tensor {
  return tf.tidy(() => {
    const total = tf.sum(tf.mul(values, mask), axis);
    const count = tf.maximum(tf.sum(mask, axis), 1);
    return tf.div(total, count);
  });
}

/**
 * Variance of `values` over the valid positions of `mask` (scalar). With `unbiased` (the default, as verl's
 * `masked_var` and TRL) the sum of squares is divided by n − 1; with a single valid position the variance is 0.
 *
 * @param values any shape, float32
 * @param mask same shape, 1 = valid
 * @param unbiased divide by n − 1 instead of n. @default true
 */
export function maskedVariance(values: tf.Tensor, mask: tf.Tensor, unbiased = true): tf.Scalar {
  return tf.tidy(() => {
    const count = tf.sum(mask);
    const mean = tf.div(tf.sum(tf.mul(values, mask)), tf.maximum(count, 1));
    const squares = tf.sum(tf.mul(tf.square(tf.sub(values, mean)), mask));
    const denominator = unbiased ? tf.maximum(tf.sub(count, 1), 1) : tf.maximum(count, 1);
    return tf.div(squares, denominator) as tf.Scalar;
  });
}

/** Options of {@link maskedWhiten}. */
export interface MaskedWhitenOptions {
  /** Remove the mean (false keeps it: TRL's `whiten_rewards` rescales without centring). @default true */
  shiftMean?: boolean;
  /** Added to the variance before the square root. @default 1e-8 */
  epsilon?: number;
  /** Use the unbiased (n − 1) variance. @default true */
  unbiased?: boolean;
}

/**
 * Whitens `values` over the valid positions of `mask`: (x − mean) / sqrt(var + ε), with the masked mean and the
 * unbiased masked variance (verl `masked_whiten`). Invalid positions come out as exactly 0.
 *
 * @param values any shape, float32
 * @param mask same shape, 1 = valid
 */
export function maskedWhiten(
  values: tf.Tensor,
  mask: tf.Tensor,
  options: MaskedWhitenOptions = {},
): tf.Tensor {
  const { shiftMean = true, epsilon = 1e-8, unbiased = true } = options;
  return tf.tidy(() => {
    const mean = maskedMean(values, mask);
    const variance = maskedVariance(values, mask, unbiased);
    const scaled = tf.mul(tf.sub(values, mean), tf.rsqrt(tf.add(variance, epsilon)));
    const whitened = shiftMean ? scaled : tf.add(scaled, mean);
    return tf.mul(whitened, mask);
  });
}
