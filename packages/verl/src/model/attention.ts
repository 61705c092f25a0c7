import * as tf from "@tensorflow/tfjs";
import { type AttentionBias, fitsFusedAttention, fusedAttention } from "../internal/attention-kernels.js";
import { batchMatMul } from "../internal/batch-matmul.js";
import {
  fitsFusedCachedAttention,
  fusedCachedAttention,
  fusedCachedAttentionInPlace,
} from "../internal/cached-attention-kernels.js";
import type { LayerCache } from "../rollout/kv-cache.js";

/** The additive bias of masked attention positions. */
export const NEG_INF = -1e9;

/** The causal attention bias `[1, 1, L, L]`: 0 on and below the diagonal, −1e9 above. */
export function causalBias(length: number): tf.Tensor4D {
  const values = new Float32Array(length * length);
  for (let i = 0; i < length; i++) {
    for (let j = i + 1; j < length; j++) values[i * length + j] = NEG_INF;
  }
  return tf.tensor4d(values, [1, 1, length, length]);
}

/** Shapes of a full-sequence attention: `batch` rows of `length` positions, `heads` heads. */
export interface SequenceShape {
  batch: number;
  length: number;
  heads: number;
}

/**
 * Multi-head attention over whole sequences, `q, k, v [B·L, d]` → `[B·L, d]`, with the additive bias
 * (`bias.values [B or 1, 1, L, L]`, −1e9 on the keys a query must not see). The batched products are
 * differentiable (`batchMatMul`); on wasm, when the bias is declared causal (`bias.causal`, as the transformer's
 * is by construction) and the sizes allow, both directions are one SIMD kernel each that reads the heads in place
 * (`fusedAttention`). When `collect` is given, the keys and values `[B, H, L, headSize]` are pushed to it (the
 * prefill of a KV cache).
 */
export function sequenceAttention(
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  shape: SequenceShape,
  bias: AttentionBias,
  collect: LayerCache[] | null,
): tf.Tensor {
  const { batch, length, heads: h } = shape;
  const d = q.shape[1] as number;
  const headSize = d / h;
  const sizes = { batch, length, heads: h, headSize };
  const split: [number, number, number, number] = [batch, length, h, headSize];
  /** `[B·L, d]` → `[B, H, L, headSize]`. */
  const byHead = (x: tf.Tensor) => tf.transpose(tf.reshape(x, split), [0, 2, 1, 3]) as tf.Tensor4D;
  if (fitsFusedAttention(q, sizes, bias)) {
    if (collect !== null) collect.push({ keys: byHead(k), values: byHead(v) });
    return fusedAttention(q, k, v, sizes, bias);
  }
  const queries = tf.mul(byHead(q), 1 / Math.sqrt(headSize));
  const keysT = tf.transpose(tf.reshape(k, split), [0, 2, 3, 1]);
  const values = byHead(v);
  if (collect !== null) collect.push({ keys: byHead(k), values });
  const n = batch * h;
  const scores = tf.reshape(
    batchMatMul(tf.reshape(queries, [n, length, headSize]), tf.reshape(keysT, [n, headSize, length])),
    [batch, h, length, length],
  );
  const probabilities = tf.reshape(tf.softmax(tf.add(scores, bias.values)), [n, length, length]);
  const context = tf.reshape(batchMatMul(probabilities, tf.reshape(values, [n, length, headSize])), [
    batch,
    h,
    length,
    headSize,
  ]);
  return tf.reshape(tf.transpose(context, [0, 2, 1, 3]), [batch * length, d]);
}

/**
 * Attention of one new position per row against a KV cache, `q, k, v [B, d]` → `[B, d]`: the new key and value
 * are appended to `previous` (the extended cache is pushed to `layers`), and `keyBias` (`[B, 1, 1, t + 1]`, or
 * null) masks padded prompt positions; `cached` is the cache's length. On wasm this is one SIMD kernel, which
 * writes the new position in place when `previous` holds growable buffers (`LayerCache.growth`).
 */
export function cachedAttention(
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  heads: number,
  previous: LayerCache,
  keyBias: tf.Tensor4D | null,
  layers: LayerCache[],
  cached: number = previous.keys.shape[2],
): tf.Tensor {
  const [batch, d] = q.shape as [number, number];
  const headSize = d / heads;
  const capacity = previous.keys.shape[2];
  const growth = previous.growth;
  if (
    growth !== undefined &&
    cached < capacity &&
    fitsFusedCachedAttention(q, previous.keys, keyBias, cached)
  ) {
    // Buffers with room: the next position is written in place (after a private copy when this cache is
    // older than the buffers' contents).
    const inPlace = growth.filled === cached;
    const buffers = {
      keys: (inPlace ? tf.clone(previous.keys) : tf.add(previous.keys, 0)) as tf.Tensor4D,
      values: (inPlace ? tf.clone(previous.values) : tf.add(previous.values, 0)) as tf.Tensor4D,
    };
    const context = fusedCachedAttentionInPlace(q, k, v, buffers, keyBias, cached);
    const next = inPlace ? growth : { filled: 0 };
    next.filled = cached + 1;
    layers.push({ ...buffers, growth: next });
    return context;
  }
  // Elsewhere the cache is exact-size tensors (buffers are cut to their filled part first).
  const source: LayerCache =
    growth === undefined
      ? previous
      : {
          keys: tf.slice(previous.keys, [0, 0, 0, 0], [-1, -1, cached, -1]),
          values: tf.slice(previous.values, [0, 0, 0, 0], [-1, -1, cached, -1]),
        };
  if (fitsFusedCachedAttention(q, source.keys, keyBias)) {
    const [context, keys, values] = fusedCachedAttention(q, k, v, source, keyBias);
    layers.push({ keys, values });
    return context;
  }
  const keys = tf.concat([source.keys, tf.reshape(k, [batch, heads, 1, headSize])], 2) as tf.Tensor4D;
  const values = tf.concat([source.values, tf.reshape(v, [batch, heads, 1, headSize])], 2) as tf.Tensor4D;
  layers.push({ keys, values });
  // Batched products take wasm's generic path, where transposeB costs nothing extra.
  const query = tf.mul(tf.reshape(q, [batch, heads, 1, headSize]), 1 / Math.sqrt(headSize));
  let scores = tf.matMul(query, keys, false, true);
  if (keyBias !== null) scores = tf.add(scores, keyBias);
  return tf.reshape(tf.matMul(tf.softmax(scores), values), [batch, d]);
}
