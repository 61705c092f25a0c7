import * as tf from "@tensorflow/tfjs";
import { transposeLastTwo } from "./fast-transpose.js";

type CustomGradFunction = Parameters<typeof tf.customGrad>[0];

/**
 * `a [N, M, K] @ b [N, K, P]` → `[N, M, P]` written as one depthwise convolution, which the wasm backend runs
 * through XNNPACK: with `x[0, m, k, n] = a[n, m, k]` and the filter `f[0, k, n, p] = b[n, k, p]`, a VALID
 * depthwise convolution with channel multiplier P gives `out[0, m, 0, n·P + p] = Σ_k a[n, m, k] · b[n, k, p]`.
 * wasm's own BatchMatMul takes a scalar path for batched operands, several times slower.
 */
function depthwiseBatchMatMul(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const [n, m, k] = a.shape as [number, number, number];
  const p = b.shape[2]!;
  const x = tf.reshape(tf.transpose(a, [1, 2, 0]), [1, m, k, n]) as tf.Tensor4D;
  const filter = tf.reshape(tf.transpose(b, [1, 0, 2]), [1, k, n, p]) as tf.Tensor4D;
  const out = tf.depthwiseConv2d(x, filter, 1, "valid");
  return tf.transpose(tf.reshape(out, [m, n, p]), [1, 0, 2]);
}

/** The batched product on the current backend: depthwise-convolution form on wasm, matMul elsewhere. */
function product(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return tf.getBackend() === "wasm" ? depthwiseBatchMatMul(a, b) : tf.matMul(a, b);
}

/**
 * Batched matrix product `a [N, M, K] @ b [N, K, P]` → `[N, M, P]` with gradients `da = dy @ bᵀ` and
 * `db = aᵀ @ dy` computed the same way (explicit transposes, no transposeA/B).
 */
export const batchMatMul = tf.customGrad(((a: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
  save([a, b]);
  return {
    value: product(a, b),
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const [sa, sb] = saved as [tf.Tensor, tf.Tensor];
      const g = dy as tf.Tensor;
      return [product(g, transposeLastTwo(sb)), product(transposeLastTwo(sa), g)];
    },
  };
}) as unknown as CustomGradFunction) as (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;
