import type * as tf from "@tensorflow/tfjs";
import {
  address,
  defineSimdKernel,
  defineSimdKernelsOnce,
  runSimdKernel,
  simdKernelsActive,
} from "./simd-kernels.js";

const register = defineSimdKernelsOnce(() => {
  defineSimdKernel("OrbiterCachedAttention", (backend, simd, [q, k, v, keys, values, keyBias], attrs) => {
    const [batch, heads, cached, headSize] = keys!.shape as [number, number, number, number];
    const out = backend.makeOutput([...q!.shape], "float32");
    const newKeys = backend.makeOutput([batch, heads, cached + 1, headSize], "float32");
    const newValues = backend.makeOutput([batch, heads, cached + 1, headSize], "float32");
    const scores = backend.makeOutput([Math.ceil((cached + 1) / 4) * 4], "float32");
    const pointers = [q!, k!, v!, keys!, values!].map((t) => address(backend, t));
    simd.cachedAttention(
      ...pointers,
      keyBias === undefined ? 0 : address(backend, keyBias),
      ...[out, newKeys, newValues, scores].map((t) => address(backend, t)),
      batch,
      heads,
      cached,
      cached + 1,
      headSize,
      attrs.scale as number,
    );
    backend.disposeData(scores.dataId);
    return [out, newKeys, newValues];
  });
  defineSimdKernel(
    "OrbiterCachedAttentionInPlace",
    (backend, simd, [q, k, v, keys, values, keyBias], attrs) => {
      const [batch, heads, capacity, headSize] = keys!.shape as [number, number, number, number];
      const cached = attrs.cached as number;
      const out = backend.makeOutput([...q!.shape], "float32");
      const scores = backend.makeOutput([Math.ceil((cached + 1) / 4) * 4], "float32");
      const [keysAt, valuesAt] = [address(backend, keys!), address(backend, values!)];
      simd.cachedAttention(
        ...[q!, k!, v!].map((t) => address(backend, t)),
        keysAt,
        valuesAt,
        keyBias === undefined ? 0 : address(backend, keyBias),
        address(backend, out),
        keysAt,
        valuesAt,
        address(backend, scores),
        batch,
        heads,
        cached,
        capacity,
        headSize,
        attrs.scale as number,
      );
      backend.disposeData(scores.dataId);
      return [out];
    },
  );
});

/**
 * Whether {@link fusedCachedAttention} runs here: SIMD kernels active, float32 operands, a head size that is a
 * multiple of 4, at least one cached position.
 */
export function fitsFusedCachedAttention(
  q: tf.Tensor,
  keys: tf.Tensor,
  keyBias: tf.Tensor | null,
  cached: number = keys.shape[2] as number,
): boolean {
  const [batch, heads, , headSize] = keys.shape as [number, number, number, number];
  return (
    simdKernelsActive() &&
    q.dtype === "float32" &&
    keys.dtype === "float32" &&
    q.rank === 2 &&
    keys.rank === 4 &&
    q.shape[0] === batch &&
    q.shape[1] === heads * headSize &&
    headSize % 4 === 0 &&
    cached > 0 &&
    (keyBias === null || (keyBias.dtype === "float32" && keyBias.size === batch * (cached + 1)))
  );
}

/**
 * As {@link fusedCachedAttention} on buffers `keys, values [B, H, T, hs]` that hold `cached` positions and have
 * room for more: the new key and value are written at position `cached` **in place** (the buffers are private to
 * a KV cache that owns them; see `LayerCache.growth`), and only the context `[B, d]` is returned.
 */
export function fusedCachedAttentionInPlace(
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  buffers: { keys: tf.Tensor; values: tf.Tensor },
  keyBias: tf.Tensor | null,
  cached: number,
): tf.Tensor {
  register();
  const headSize = buffers.keys.shape[3] as number;
  const inputs: tf.NamedTensorMap = { q, k, v, keys: buffers.keys, values: buffers.values };
  if (keyBias !== null) inputs.keyBias = keyBias;
  return runSimdKernel("OrbiterCachedAttentionInPlace", inputs, {
    cached,
    scale: 1 / Math.sqrt(headSize),
  }) as tf.Tensor;
}

/**
 * Attention of one new position per row against the cache `keys, values [B, H, t, hs]`, as one SIMD kernel:
 * → `[context [B, d], keys, values [B, H, t + 1, hs]]` (the new key and value appended). Check
 * {@link fitsFusedCachedAttention} first.
 */
export function fusedCachedAttention(
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  cache: { keys: tf.Tensor; values: tf.Tensor },
  keyBias: tf.Tensor | null,
): [tf.Tensor, tf.Tensor4D, tf.Tensor4D] {
  register();
  const headSize = cache.keys.shape[3] as number;
  const inputs: tf.NamedTensorMap = { q, k, v, keys: cache.keys, values: cache.values };
  if (keyBias !== null) inputs.keyBias = keyBias;
  return runSimdKernel("OrbiterCachedAttention", inputs, { scale: 1 / Math.sqrt(headSize) }) as [
    tf.Tensor,
    tf.Tensor4D,
    tf.Tensor4D,
  ];
}
