import * as tf from "@tensorflow/tfjs";
import {
  address,
  defineSimdKernel,
  defineSimdKernelsOnce,
  runSimdKernel,
  simdKernelsActive,
} from "./simd-kernels.js";

type CustomGradFunction = Parameters<typeof tf.customGrad>[0];

/** Sizes of a whole-sequence attention: `batch` sequences of `length` positions, `heads` heads of `headSize`. */
export interface AttentionSizes {
  batch: number;
  length: number;
  heads: number;
  headSize: number;
}

const register = defineSimdKernelsOnce(() => {
  defineSimdKernel("OrbiterAttention", (backend, simd, [q, k, v, bias], attrs) => {
    const { batch, length, heads, headSize, biasStride, scale } = attrs as unknown as AttentionSizes & {
      biasStride: number;
      scale: number;
    };
    const out = backend.makeOutput([...q!.shape], "float32");
    const probs = backend.makeOutput([batch, heads, length, length], "float32");
    const scratch = backend.makeOutput([headSize * length], "float32");
    simd.attention(
      ...[q!, k!, v!, bias!, out, probs, scratch].map((t) => address(backend, t)),
      batch,
      heads,
      length,
      headSize,
      biasStride,
      scale,
    );
    backend.disposeData(scratch.dataId);
    return [out, probs];
  });
  defineSimdKernel("OrbiterAttentionGrad", (backend, simd, [q, k, v, probs, dy], attrs) => {
    const { batch, length, heads, headSize, scale } = attrs as unknown as AttentionSizes & { scale: number };
    const [dq, dk, dv] = [0, 1, 2].map(() => backend.makeOutput([...q!.shape], "float32"));
    const scratch = backend.makeOutput([(headSize + length) * length], "float32");
    simd.attentionGrad(
      ...[q!, k!, v!, probs!, dy!, dq!, dk!, dv!, scratch].map((t) => address(backend, t)),
      batch,
      heads,
      length,
      headSize,
      scale,
    );
    backend.disposeData(scratch.dataId);
    return [dq!, dk!, dv!];
  });
});

/** The additive bias of a whole-sequence attention, and whether its builder declares it causal. */
export interface AttentionBias {
  /** `[1 or B, 1, L, L]` added to the scores: 0 where a query sees a key, −1e9 where it does not. */
  values: tf.Tensor;
  /**
   * The builder's word that `values` masks every key after its query (a causal mask, plus any padding). Nothing
   * checks it, since reading `[L, L]` back per call would cost what the fused kernels save: they skip the masked
   * scores and products, so they run only on a bias declared causal; any other runs the general ops.
   */
  causal: boolean;
}

/** An {@link AttentionBias} declared causal: what {@link fusedAttention} takes. */
export type CausalAttentionBias = AttentionBias & { causal: true };

/**
 * Whether {@link fusedAttention} runs here: the bias is declared causal, the SIMD kernels are active, head size
 * and length are multiples of 8, and the bias values are `[1 or batch, 1, L, L]` float32.
 */
export function fitsFusedAttention(
  q: tf.Tensor,
  sizes: AttentionSizes,
  bias: AttentionBias,
): bias is CausalAttentionBias {
  const { batch, length, heads, headSize } = sizes;
  const { values } = bias;
  const biasRows = values.shape[0];
  return (
    bias.causal &&
    simdKernelsActive() &&
    q.rank === 2 &&
    q.dtype === "float32" &&
    values.dtype === "float32" &&
    q.shape[0] === batch * length &&
    q.shape[1] === heads * headSize &&
    headSize % 8 === 0 &&
    length % 8 === 0 &&
    values.size === (biasRows ?? 0) * length * length &&
    (biasRows === 1 || biasRows === batch)
  );
}

/**
 * Multi-head causal attention `q, k, v [B·L, d]` → context `[B·L, d]` as one SIMD kernel per direction, reading
 * the heads where the projections put them: softmax(QKᵀ/√hs + bias) V, with the probabilities saved for the
 * gradient. The bias is declared causal (it masks every key after its query, plus any padding): the kernels skip
 * those scores and products. A query whose every key is masked (a left-padded position) gets some finite context
 * that nothing should read. Check {@link fitsFusedAttention} first, which also narrows the bias's type.
 */
export function fusedAttention(
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  sizes: AttentionSizes,
  causalBias: CausalAttentionBias,
): tf.Tensor {
  const bias = causalBias.values;
  register();
  const { length } = sizes;
  const scale = 1 / Math.sqrt(sizes.headSize);
  const biasStride = bias.shape[0] === 1 ? 0 : length * length * 4;
  const attrs = { ...sizes, scale } as unknown as tf.NamedAttrMap;
  const attend = tf.customGrad(((qi: tf.Tensor, ki: tf.Tensor, vi: tf.Tensor, save: tf.GradSaveFunc) => {
    const [out, probs] = runSimdKernel(
      "OrbiterAttention",
      { q: qi, k: ki, v: vi, bias },
      {
        ...attrs,
        biasStride,
      },
    ) as [tf.Tensor, tf.Tensor];
    save([qi, ki, vi, probs]);
    return {
      value: out,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [sq, sk, sv, sp] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
        return runSimdKernel(
          "OrbiterAttentionGrad",
          { q: sq, k: sk, v: sv, probs: sp, dy: dy as tf.Tensor },
          attrs,
        ) as tf.Tensor[];
      },
    };
  }) as unknown as CustomGradFunction) as (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor) => tf.Tensor;
  return attend(q, k, v);
}
