import * as tf from "@tensorflow/tfjs";
import { columnSum } from "./fast-transpose.js";

type CustomGradFunction = Parameters<typeof tf.customGrad>[0];

/**
 * Layer normalisation of the rows of `x [N, d]`: `(x - mean) / sqrt(var + eps) * gain + bias`, with a fused
 * gradient (`dx = rstd · (ĝ - mean(ĝ) - x̂ · mean(ĝ · x̂))` where `ĝ = dy · gain`, and the gain and bias
 * gradients as `ones @ …` products).
 */
export function layerNorm(x: tf.Tensor, gain: tf.Tensor, bias: tf.Tensor, epsilon: number): tf.Tensor {
  const normalise = tf.customGrad(((input: tf.Tensor, g: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    const { mean, variance } = tf.moments(input, 1, true);
    const rstd = tf.rsqrt(tf.add(variance, epsilon));
    const normalised = tf.mul(tf.sub(input, mean), rstd);
    save([normalised, rstd, g]);
    return {
      value: tf.add(tf.mul(normalised, g), b),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [xHat, r, savedGain] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
        const upstream = dy as tf.Tensor;
        const scaled = tf.mul(upstream, savedGain);
        const dx = tf.mul(
          r,
          tf.sub(
            tf.sub(scaled, tf.mean(scaled, 1, true)),
            tf.mul(xHat, tf.mean(tf.mul(scaled, xHat), 1, true)),
          ),
        );
        return [dx, columnSum(tf.mul(upstream, xHat)), columnSum(upstream)];
      },
    };
  }) as unknown as CustomGradFunction) as (input: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.Tensor;
  if (x.rank === 2) return normalise(x, gain, bias);
  const width = x.shape[x.rank - 1]!;
  return tf.reshape(normalise(tf.reshape(x, [-1, width]), gain, bias), x.shape);
}

/** Layer normalisation of the rows of `x [N, d]` for inference (no custom gradient). */
export function layerNormInference(
  x: tf.Tensor,
  gain: tf.Tensor,
  bias: tf.Tensor,
  epsilon: number,
): tf.Tensor {
  const { mean, variance } = tf.moments(x, x.rank - 1, true);
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, epsilon))), gain), bias);
}
