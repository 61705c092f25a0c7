import { InvalidArgumentError } from "@orbiter/types";
import * as tf from "@tensorflow/tfjs";
import { repeatRows, repeatRowsPadded } from "../internal/repeat-rows.js";
import { simdKernelsActive } from "../internal/simd-kernels.js";
import { type DecoderStep, KvCache, type LayerCache } from "../rollout/kv-cache.js";
import { cachedAttention, NEG_INF } from "./attention.js";
import type { KeptPositions } from "./kept-positions.js";
import { positionRotation } from "./rotary-embedding.js";
import { type BlockWeights, INFERENCE_OPS, transformerBlock } from "./transformer-block.js";
import type { ResolvedTransformerConfig } from "./transformer-config.js";

/** What the KV-cache decoding of a transformer reads from its model. */
export interface DecodingModel {
  readonly config: ResolvedTransformerConfig;
  readonly blocks: ReadonlyArray<BlockWeights>;
  parameter(name: string): tf.Variable;
  /**
   * Embeddings and every block on `tokens [B, L]` → `[B·L, d]` (`[B·count, d]` for the positions `keep` names),
   * pushing each block's keys and values to `collect`.
   */
  trunk(
    tokens: tf.Tensor2D,
    mask: tf.Tensor2D | undefined,
    collect: LayerCache[] | null,
    keep?: KeptPositions,
  ): tf.Tensor;
  /** Final LayerNorm and heads of `[N, d]` → logits `[N, V]` (and values `[N]` with a value head). */
  head(x: tf.Tensor): { logits: tf.Tensor2D; values?: tf.Tensor1D };
}

/**
 * The prefill of the batched sampler: a full forward of the left-padded prompts `tokens [P, Lp]` that keeps
 * every block's keys and values, then the last position's logits (and values), each prompt's rows repeated
 * `repeat` times. Host copies of the input embeddings go into the cache for the decoding steps.
 */
export function prefillTransformer(
  model: DecodingModel,
  tokens: tf.Tensor2D,
  mask: tf.Tensor2D | null,
  repeat: number,
): DecoderStep {
  const [prompts, length] = tokens.shape;
  const d = model.config.dModel;
  const layers: LayerCache[] = [];
  // Only the last position's output is read: the other prompt positions skip the last block's MLP.
  const last = model.trunk(tokens, mask ?? undefined, layers, { start: length - 1, count: 1 });
  let { logits, values } = model.head(last);
  let keyBias: tf.Tensor4D | null =
    mask === null
      ? null
      : (tf.reshape(tf.mul(tf.sub(1, mask), NEG_INF), [prompts, 1, 1, length]) as tf.Tensor4D);
  if (repeat > 1) {
    logits = repeatRows(logits, repeat);
    if (values !== undefined) values = repeatRows(values, repeat);
    if (keyBias !== null) keyBias = repeatRows(keyBias, repeat);
  }
  const growable = simdKernelsActive();
  for (const layer of layers) {
    if (growable) {
      // Buffers with room for the whole context, which the decoding steps extend in place: the rows repeated
      // and padded in one pass of copies.
      const capacity = model.config.contextLength;
      layer.keys = repeatRowsPadded(layer.keys, repeat, capacity);
      layer.values = repeatRowsPadded(layer.values, repeat, capacity);
      layer.growth = { filled: length };
    } else if (repeat > 1) {
      layer.keys = repeatRows(layer.keys, repeat);
      layer.values = repeatRows(layer.values, repeat);
    }
  }
  const embeddings = {
    token: new Float32Array(model.parameter("token_embedding").dataSync() as Float32Array),
    position: new Float32Array(model.parameter("position_embedding").dataSync() as Float32Array),
    width: d,
  };
  const cache = new KvCache(layers, keyBias, length, embeddings);
  return values === undefined ? { logits, cache } : { logits, cache, values };
}

/**
 * One decoding step: one token per row at the given positions (host arrays of length B) through every block,
 * attending to the cache, → the next logits `[B, V]` (and values) and the extended cache.
 */
export function stepTransformer(
  model: DecodingModel,
  cache: KvCache,
  tokens: Int32Array,
  positions: Int32Array,
): DecoderStep {
  const { dModel: d, nHeads, layerNormEpsilon: eps, vocabSize, contextLength } = model.config;
  const batch = tokens.length;
  // Input rows are summed on the host from the embeddings copied at prefill: one upload instead of one-hot
  // products (the ids are on the host already).
  const { token, position } = cache.embeddings;
  const input = new Float32Array(batch * d);
  for (let row = 0; row < batch; row++) {
    const id = tokens[row]!;
    const at = positions[row]!;
    if (id < 0 || id >= vocabSize || at < 0 || at >= contextLength) {
      throw new InvalidArgumentError(`Row ${row}: token ${id} or position ${at} is out of range`, {
        field: "tokens",
      });
    }
    for (let j = 0; j < d; j++) input[row * d + j] = token[id * d + j]! + position[at * d + j]!;
  }
  let x: tf.Tensor = tf.tensor2d(input, [batch, d]);
  const keyBias =
    cache.keyBias === null
      ? null
      : (tf.concat([cache.keyBias, tf.zeros([batch, 1, 1, 1])], 3) as tf.Tensor4D);
  const layers: LayerCache[] = [];
  const turn = positionRotation(model.config, positions);
  model.blocks.forEach((block, i) => {
    const previous = cache.layers[i] as LayerCache;
    x = transformerBlock(x, block, INFERENCE_OPS, eps, (q, k, v) =>
      cachedAttention(turn(q), turn(k), v, nHeads, previous, keyBias, layers, cache.length),
    );
  });
  const next = new KvCache(layers, keyBias, cache.length + 1, cache.embeddings);
  const { logits, values } = model.head(x);
  return values === undefined ? { logits, cache: next } : { logits, cache: next, values };
}
