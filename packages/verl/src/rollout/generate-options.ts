import { z } from "zod";

/**
 * Options of {@link Policy.generate}: how many tokens to sample, how many samples per prompt, and the
 * sampling distribution (temperature, then top-k, then top-p).
 */
export const GenerateOptions = z.strictObject({
  /** Largest number of new tokens per sample. @default 32 */
  maxNewTokens: z.number().int().min(1).default(32),
  /** Samples per prompt; all samples of all prompts are decoded together as one batch. @default 1 */
  n: z.number().int().min(1).default(1),
  /** Softmax temperature; logits are divided by it. @default 1 */
  temperature: z.number().positive().finite().default(1),
  /** Keep only the k most likely tokens (0 = no limit). @default 0 */
  topK: z.number().int().min(0).default(0),
  /** Keep the smallest set of most likely tokens whose probability reaches p (1 = no limit). @default 1 */
  topP: z.number().gt(0).max(1).default(1),
  /** Always take the most likely token instead of sampling. @default false */
  greedy: z.boolean().default(false),
  /** Seed of the sampler: the same seed, prompts and weights give the same tokens. @default 0 */
  seed: z.number().int().default(0),
  /** Stop a sample at its end-of-sequence token (later positions are padding). @default true */
  stopAtEos: z.boolean().default(true),
  /**
   * Also return the value-head estimate of the state before each sampled token (PPO's old values, computed
   * during decoding instead of by a second forward; needs a policy with a value head). @default false
   */
  withValues: z.boolean().default(false),
});

/** Parsed generation options. */
export type GenerateOptions = z.output<typeof GenerateOptions>;
/** What {@link Policy.generate} accepts: every field optional. */
export type GenerateOptionsInput = z.input<typeof GenerateOptions>;

/**
 * The samples drawn by {@link Policy.generate}. Row `i` is sample `i % n` of prompt `promptIndex[i]`; rows
 * are grouped by prompt (all `n` samples of prompt 0 first). Everything is host data (no tensors to dispose).
 */
export interface GenerationResult {
  /** Number of rows (prompts × n). */
  batchSize: number;
  /** Width of the left-padded prompt block (the longest prompt in tokens). */
  promptLength: number;
  /** Number of response positions (maxNewTokens, or fewer when every sample stopped early). */
  responseLength: number;
  /** For each row, the index of its prompt. */
  promptIndex: number[];
  /** For each row: left-padded prompt then response, `promptLength + responseLength` ids. */
  sequences: number[][];
  /** For each row: 1 on real tokens of `sequences`, 0 on padding (left of the prompt, after a stop). */
  attentionMask: number[][];
  /** For each row: the sampled ids up to and including the end-of-sequence token (ragged). */
  responses: number[][];
  /** For each row: 1 on the `responseLength` response positions that were sampled, 0 after a stop. */
  responseMask: number[][];
  /**
   * For each row and response position: log-probability of the sampled token under `softmax(logits /
   * temperature)` (before top-k/top-p), as {@link Policy.logProbs} computes it; 0 where the mask is 0.
   */
  logProbs: number[][];
  /**
   * With `withValues`: for each row and response position, the value-head estimate of the state before the
   * sampled token, as {@link Policy.logProbs} with `withValues` computes it; 0 where the mask is 0.
   */
  values?: number[][];
  /** For each row: the decoded response text (special tokens left out). */
  texts: string[];
  /** For each row: whether it ended with the end-of-sequence token. */
  finished: boolean[];
}
