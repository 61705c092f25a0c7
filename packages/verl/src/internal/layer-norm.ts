import * as tf from "@tensorflow/tfjs";
import { columnSum } from "./fast-transpose.js";
import { fitsLayerNorm, simdKernelsActive, simdLayerNorm, simdLayerNormGrad } from "./simd-kernels.js";

type CustomGradFunction = Parameters<typeof tf.customGrad>[0];

/**
 * Row means of a matrix `[N, d]` → `[N, 1]`, as `x @ (1/d)·ones[d, 1]`: on wasm the Mean kernel takes ~30×
 * longer than this product.
 */
export function rowMean(x: tf.Tensor): tf.Tensor {
  const width = x.shape[x.rank - 1]!;
  return tf.matMul(x, tf.fill([width, 1], 1 / width));
}

/** `(x - mean) / sqrt(var + eps)` of each row of `x [N, d]`, and the `1 / sqrt(var + eps)` used. */
function normaliseRows(x: tf.Tensor, epsilon: number): { normalised: tf.Tensor; rstd: tf.Tensor } {
  const centred = tf.sub(x, rowMean(x));
  const rstd = tf.rsqrt(tf.add(rowMean(tf.mul(centred, centred)), epsilon));
  return { normalised: tf.mul(centred, rstd), rstd };
}

/**
 * Layer normalisation of the rows of `x [N, d]`: `(x - mean) / sqrt(var + eps) * gain + bias`, with a fused
 * gradient (`dx = rstd · (ĝ - mean(ĝ) - x̂ · mean(ĝ · x̂))` where `ĝ = dy · gain`, and the gain and bias
 * gradients as column sums). Row statistics are matrix products (see {@link rowMean}). On wasm the forward and the
 * gradient are one SIMD pass each over the rows.
 */
export function layerNorm(x: tf.Tensor, gain: tf.Tensor, bias: tf.Tensor, epsilon: number): tf.Tensor {
  const normalise = tf.customGrad(((input: tf.Tensor, g: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    if (simdKernelsActive() && fitsLayerNorm(input, g, b)) {
      const [out, xHat, rstd] = simdLayerNorm(input, g, b, epsilon, true) as [
        tf.Tensor,
        tf.Tensor,
        tf.Tensor,
      ];
      save([xHat, rstd, g]);
      return {
        value: out,
        gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
          const [sx, sr, sg] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
          return simdLayerNormGrad(sx, sr, sg, dy as tf.Tensor);
        },
      };
    }
    const { normalised, rstd } = normaliseRows(input, epsilon);
    save([normalised, rstd, g]);
    return {
      value: tf.add(tf.mul(normalised, g), b),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [xHat, r, savedGain] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
        const upstream = dy as tf.Tensor;
        const scaled = tf.mul(upstream, savedGain);
        const dx = tf.mul(
          r,
          tf.sub(tf.sub(scaled, rowMean(scaled)), tf.mul(xHat, rowMean(tf.mul(scaled, xHat)))),
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
  if (simdKernelsActive() && fitsLayerNorm(x, gain, bias)) {
    return simdLayerNorm(x, gain, bias, epsilon, false)[0] as tf.Tensor;
  }
  return tf.add(tf.mul(normaliseRows(x, epsilon).normalised, gain), bias);
}
