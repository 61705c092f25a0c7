import * as tf from "@tensorflow/tfjs";

/** Cached keys and values of one attention layer. */
export interface LayerCache {
  /** Keys, already transposed for `q @ kᵀ`: `[B, H, headSize, t]`. */
  keysT: tf.Tensor4D;
  /** Values `[B, H, t, headSize]`. */
  values: tf.Tensor4D;
}

/**
 * The key/value cache of a batch being decoded: one {@link LayerCache} per block, plus the additive key bias
 * `[B, 1, 1, t]` (−1e9 on padded prompt positions) or null when no row is padded. Each decoding step returns a
 * new cache; the old one is disposed by the decoder's caller.
 */
export class KvCache {
  constructor(
    readonly layers: LayerCache[],
    readonly keyBias: tf.Tensor4D | null,
    /** Number of cached positions. */
    readonly length: number,
  ) {}

  /** Marks every tensor of the cache with `tf.keep`, so it survives the enclosing `tf.tidy`. */
  keep(): this {
    for (const layer of this.layers) {
      tf.keep(layer.keysT);
      tf.keep(layer.values);
    }
    if (this.keyBias !== null) tf.keep(this.keyBias);
    return this;
  }

  /** Frees every tensor of the cache. */
  dispose(): void {
    for (const layer of this.layers) {
      layer.keysT.dispose();
      layer.values.dispose();
    }
    this.keyBias?.dispose();
  }
}

/** A model that can decode incrementally with a {@link KvCache}, as the batched sampler needs. */
export interface IncrementalDecoder {
  /** Longest sequence the model can process. */
  readonly contextLength: number;
  /**
   * Runs the left-padded prompts `tokens [P, Lp]` (mask `[P, Lp]`, or null when none is padded) and returns
   * the last position's logits and the cache, each prompt's rows repeated `repeat` times (`[P·repeat, …]`).
   */
  prefill(
    tokens: tf.Tensor2D,
    mask: tf.Tensor2D | null,
    repeat: number,
  ): { logits: tf.Tensor2D; cache: KvCache };
  /** Feeds one token per row at the given positions (`[B]` int32) and returns the next logits `[B, V]`. */
  step(cache: KvCache, tokens: tf.Tensor1D, positions: tf.Tensor1D): { logits: tf.Tensor2D; cache: KvCache };
}
