import * as tf from "@tensorflow/tfjs";

/** Cached keys and values of one attention layer, both `[B, H, t, headSize]` (or buffers, see `growth`). */
export interface LayerCache {
  /** Keys `[B, H, t, headSize]` (appended along axis 2, a contiguous copy per head). */
  keys: tf.Tensor4D;
  /** Values `[B, H, t, headSize]`. */
  values: tf.Tensor4D;
  /**
   * Set when `keys` and `values` are buffers `[B, H, capacity, headSize]` that decoding steps extend in place
   * (positions from the cache's length on are unused): `filled` is how many positions the buffers hold, shared by
   * every cache over them. A step from a cache whose length is `filled` writes the next position in place; a
   * step from an older cache (a branch) copies the buffers first, so no cache ever sees another's positions.
   */
  growth?: { filled: number };
}

/** Host copies of the input embeddings, so a decoding step builds its input rows without device ops. */
export interface HostEmbeddings {
  /** Token embedding `[V, d]`, row-major. */
  token: Float32Array;
  /** Position embedding `[T, d]`, row-major. */
  position: Float32Array;
  /** Width `d`. */
  width: number;
}

/**
 * The key/value cache of a batch being decoded: one {@link LayerCache} per block, the additive key bias
 * `[B, 1, 1, t]` (−1e9 on padded prompt positions) or null when no row is padded, and host copies of the input
 * embeddings taken at prefill. Each decoding step returns a new cache; the caller disposes the old one.
 */
export class KvCache {
  constructor(
    readonly layers: LayerCache[],
    readonly keyBias: tf.Tensor4D | null,
    /** Number of cached positions. */
    readonly length: number,
    /** Input embeddings as they were at prefill. */
    readonly embeddings: HostEmbeddings,
  ) {}

  /** Marks every tensor of the cache with `tf.keep`, so it survives the enclosing `tf.tidy`. */
  keep(): this {
    for (const layer of this.layers) {
      tf.keep(layer.keys);
      tf.keep(layer.values);
    }
    if (this.keyBias !== null) tf.keep(this.keyBias);
    return this;
  }

  /** Frees every tensor of the cache. */
  dispose(): void {
    for (const layer of this.layers) {
      layer.keys.dispose();
      layer.values.dispose();
    }
    this.keyBias?.dispose();
  }
}

/** What a decoding call of an {@link IncrementalDecoder} returns; the caller owns the tensors. */
export interface DecoderStep {
  /** Next-token logits `[B, V]`. */
  logits: tf.Tensor2D;
  /** The cache extended by the positions just fed. */
  cache: KvCache;
  /** Value-head estimates `[B]` of the same states, when the model has a value head. */
  values?: tf.Tensor1D;
}

/** A model that can decode incrementally with a {@link KvCache}, as the batched sampler needs. */
export interface IncrementalDecoder {
  /** Longest sequence the model can process. */
  readonly contextLength: number;
  /**
   * Runs the left-padded prompts `tokens [P, Lp]` (mask `[P, Lp]`, or null when none is padded) and returns
   * the last position's logits and the cache, each prompt's rows repeated `repeat` times (`[P·repeat, …]`).
   */
  prefill(tokens: tf.Tensor2D, mask: tf.Tensor2D | null, repeat: number): DecoderStep;
  /** Feeds one token per row at the given positions (host arrays of length B) and returns the next logits `[B, V]`. */
  step(cache: KvCache, tokens: Int32Array, positions: Int32Array): DecoderStep;
}
