import { InvalidArgumentError, InvalidStateError } from "@orbiter/types";
import * as tf from "@tensorflow/tfjs";
import { seededStream } from "../internal/seeded-stream.js";
import type { Tokenizer } from "../tokenizer/tokenizer.js";
import type { GenerateOptions, GenerationResult } from "./generate-options.js";
import type { DecoderStep, IncrementalDecoder, KvCache } from "./kv-cache.js";
import { sampleToken } from "./sample-token.js";

/** Runs a decoder call in `tf.tidy`, keeping only the logits, the cache and (when asked) the values it returns. */
function keepOutside(run: () => DecoderStep, withValues: boolean): DecoderStep {
  let out: DecoderStep | undefined;
  tf.tidy(() => {
    const result = run();
    tf.keep(result.logits);
    result.cache.keep();
    if (withValues && result.values === undefined) {
      throw new InvalidArgumentError("withValues needs a policy with a value head", { field: "withValues" });
    }
    out = withValues
      ? { ...result, values: tf.keep(result.values as tf.Tensor1D) }
      : { logits: result.logits, cache: result.cache };
  });
  return out!;
}

/** Where the rows of a {@link batchedGenerate} call sit in a larger batch split across workers. */
export interface RowPlacement {
  /**
   * Index of this call's first row in the whole batch: row `r` samples with the stream of row `firstRow + r`,
   * so a batch split into parts draws the same tokens as the whole. @default 0
   */
  firstRow?: number;
}

/**
 * Writes `log softmax(logits / temperature)` of each row of `logits [rows, width]` into `out`, computed in
 * float64 on the host (the logits are read once per step anyway; this saves the device kernels).
 */
export function logSoftmaxRows(
  logits: Float32Array,
  rows: number,
  width: number,
  temperature: number,
  out: Float32Array,
): void {
  for (let row = 0; row < rows; row++) {
    const offset = row * width;
    let max = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < width; i++) max = Math.max(max, logits[offset + i]! / temperature);
    let total = 0;
    for (let i = 0; i < width; i++) total += Math.exp(logits[offset + i]! / temperature - max);
    const shift = max + Math.log(total);
    for (let i = 0; i < width; i++) out[offset + i] = logits[offset + i]! / temperature - shift;
  }
}

/** Turns text or id prompts into id arrays, checking ids against the vocabulary. */
export function encodePrompts(
  prompts: ReadonlyArray<string | ReadonlyArray<number>>,
  tokenizer: Tokenizer,
  addBos: boolean,
): number[][] {
  if (!Array.isArray(prompts) || prompts.length === 0) {
    throw new InvalidArgumentError("prompts must be a non-empty array", { field: "prompts", value: prompts });
  }
  return prompts.map((prompt, index) => {
    let ids: number[];
    if (typeof prompt === "string") {
      ids = tokenizer.encode(prompt, { addBos });
    } else if (Array.isArray(prompt)) {
      ids = [...(prompt as ReadonlyArray<number>)];
      for (const id of ids) {
        if (!Number.isInteger(id) || id < 0 || id >= tokenizer.vocabSize) {
          throw new InvalidArgumentError(
            `prompts[${index}]: token id ${id} is outside the vocabulary (${tokenizer.vocabSize})`,
            {
              field: `prompts[${index}]`,
              value: id,
            },
          );
        }
      }
    } else {
      throw new InvalidArgumentError("Each prompt must be a string or an array of token ids", {
        field: `prompts[${index}]`,
        value: prompt,
      });
    }
    if (ids.length === 0) {
      throw new InvalidArgumentError("A prompt must have at least one token", {
        field: `prompts[${index}]`,
        value: prompt,
      });
    }
    return ids;
  });
}

/**
 * Samples `options.n` continuations of every prompt with a key/value cache, all rows decoded as one batch:
 * one prefill of the left-padded prompts, then one decoder step per new token, with a single device→host read
 * per step (the batch's logits, and values when asked) and the softmax and sampling done on the host. Each row
 * draws from its own seeded stream (seed, row), so its tokens do not depend on the other rows of the batch.
 */
export async function batchedGenerate(
  decoder: IncrementalDecoder,
  tokenizer: Tokenizer,
  promptIds: number[][],
  options: GenerateOptions,
  placement: RowPlacement = {},
): Promise<GenerationResult> {
  const promptCount = promptIds.length;
  const n = options.n;
  const batchSize = promptCount * n;
  const promptLength = Math.max(...promptIds.map((ids) => ids.length));
  if (promptLength >= decoder.contextLength) {
    const longest = promptIds.findIndex((ids) => ids.length === promptLength);
    throw new InvalidArgumentError(
      `Prompt ${longest} is ${promptLength} tokens, which leaves no room to generate in the context length ${decoder.contextLength}`,
      { field: `prompts[${longest}]`, value: promptLength },
    );
  }
  if (promptLength + options.maxNewTokens > decoder.contextLength) {
    throw new InvalidArgumentError(
      `The longest prompt (${promptLength} tokens) plus maxNewTokens (${options.maxNewTokens}) exceeds the context length ${decoder.contextLength}`,
      { field: "maxNewTokens", value: options.maxNewTokens },
    );
  }
  const padded = new Int32Array(promptCount * promptLength).fill(tokenizer.padId);
  const mask = new Float32Array(promptCount * promptLength);
  let uniform = true;
  promptIds.forEach((ids, p) => {
    const start = promptLength - ids.length;
    if (start > 0) uniform = false;
    for (let i = 0; i < ids.length; i++) {
      padded[p * promptLength + start + i] = ids[i]!;
      mask[p * promptLength + start + i] = 1;
    }
  });

  const firstRow = placement.firstRow ?? 0;
  const rngs = Array.from({ length: batchSize }, (_, row) =>
    seededStream(options.seed, `orbiter.verl.generate.row.${firstRow + row}`),
  );
  const withValues = options.withValues;
  const sampledValues: number[][] = Array.from({ length: batchSize }, () => []);
  const vocab = tokenizer.vocabSize;
  const scratch = { order: new Int32Array(vocab), probs: new Float64Array(vocab) };
  const filter = { topK: options.topK, topP: options.topP, greedy: options.greedy };
  const responses: number[][] = Array.from({ length: batchSize }, () => []);
  const sampledLogProbs: number[][] = Array.from({ length: batchSize }, () => []);
  const finished: boolean[] = new Array(batchSize).fill(false);
  const promptIndex = Array.from({ length: batchSize }, (_, row) => Math.floor(row / n));
  const rowLength = promptIndex.map((p) => promptIds[p]!.length);
  const nextTokens = new Int32Array(batchSize);
  const positions = new Int32Array(batchSize);
  const temperature = options.temperature;
  const host = new Float32Array(batchSize * vocab);

  const first = keepOutside(() => {
    const tokens = tf.tensor2d(padded, [promptCount, promptLength], "int32");
    const maskTensor = uniform ? null : tf.tensor2d(mask, [promptCount, promptLength]);
    return decoder.prefill(tokens, maskTensor, n);
  }, withValues);
  let logits: tf.Tensor2D | null = first.logits;
  let values: tf.Tensor1D | null = first.values ?? null;
  let cache: KvCache = first.cache;
  let steps = 0;
  try {
    for (let step = 0; step < options.maxNewTokens; step++) {
      const current: tf.Tensor2D = logits!;
      const [raw, rawValues] = (await Promise.all([current.data(), values?.data()])) as [
        Float32Array,
        Float32Array | undefined,
      ];
      current.dispose();
      values?.dispose();
      values = null;
      if (raw.length !== batchSize * vocab) {
        throw new InvalidStateError(
          `The decoder returned logits of shape [${current.shape}]; expected [${batchSize}, ${vocab}] (the tokenizer's vocabulary)`,
        );
      }
      logits = null;
      logSoftmaxRows(raw, batchSize, vocab, temperature, host);
      steps = step + 1;
      let active = 0;
      for (let row = 0; row < batchSize; row++) {
        if (finished[row]) {
          nextTokens[row] = tokenizer.padId;
        } else {
          const token = sampleToken(host, row * vocab, vocab, filter, rngs[row]!, scratch);
          responses[row]!.push(token);
          if (rawValues !== undefined) sampledValues[row]!.push(rawValues[row]!);
          sampledLogProbs[row]!.push(host[row * vocab + token]!);
          nextTokens[row] = token;
          if (options.stopAtEos && token === tokenizer.eosId) finished[row] = true;
          else active++;
        }
        positions[row] = rowLength[row]! + step;
      }
      if (active === 0 || step === options.maxNewTokens - 1) break;
      const previous: KvCache = cache;
      const next = keepOutside(() => decoder.step(previous, nextTokens, positions), withValues);
      previous.dispose();
      logits = next.logits;
      values = next.values ?? null;
      cache = next.cache;
    }
  } finally {
    logits?.dispose();
    values?.dispose();
    cache.dispose();
  }

  const sequences: number[][] = [];
  const attentionMask: number[][] = [];
  const responseMask: number[][] = [];
  const logProbs: number[][] = [];
  const rowValues: number[][] = [];
  const texts: string[] = [];
  for (let row = 0; row < batchSize; row++) {
    const ids = promptIds[promptIndex[row]!]!;
    const response = responses[row]!;
    const pad = promptLength - ids.length;
    const sequence = new Array<number>(promptLength + steps).fill(tokenizer.padId);
    const rowMask = new Array<number>(promptLength + steps).fill(0);
    for (let i = 0; i < ids.length; i++) {
      sequence[pad + i] = ids[i]!;
      rowMask[pad + i] = 1;
    }
    const responseRowMask = new Array<number>(steps).fill(0);
    const responseRowLogProbs = new Array<number>(steps).fill(0);
    const responseRowValues = new Array<number>(steps).fill(0);
    for (let i = 0; i < response.length; i++) {
      if (withValues) responseRowValues[i] = sampledValues[row]![i]!;
      sequence[promptLength + i] = response[i]!;
      rowMask[promptLength + i] = 1;
      responseRowMask[i] = 1;
      responseRowLogProbs[i] = sampledLogProbs[row]![i]!;
    }
    sequences.push(sequence);
    attentionMask.push(rowMask);
    responseMask.push(responseRowMask);
    logProbs.push(responseRowLogProbs);
    rowValues.push(responseRowValues);
    texts.push(tokenizer.decode(response));
  }
  return {
    batchSize,
    promptLength,
    responseLength: steps,
    promptIndex,
    sequences,
    attentionMask,
    responses,
    responseMask,
    logProbs,
    ...(withValues ? { values: rowValues } : {}),
    texts,
    finished,
  };
}
