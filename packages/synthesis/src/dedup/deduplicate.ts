import { functionSchema, InvalidArgumentError, parseWith, type Sample } from "@orbiter/types";
import { z } from "zod";
import { checkSamples } from "../internal/check-samples.js";
import type { SampleLike } from "../internal/sample-like.js";
import { type DuplicateMatch, type MinHashMethod, NearDuplicateIndex } from "./near-duplicate-index.js";

/** Options of {@link deduplicate} and {@link findNearDuplicates}. */
export const DeduplicateOptions = z.strictObject({
  /**
   * Jaccard similarity of character shingles at or above which a sample duplicates an earlier kept one, in
   * [0, 1]. `1` removes exact duplicates (equal texts) only. @default 0.9
   */
  threshold: z.number().min(0).max(1).default(0.9),
  /** What is compared: the input, the output, both, or a function of the sample. @default "both" */
  key: z
    .union([z.enum(["input", "output", "both"]), functionSchema<(sample: never) => string>()])
    .default("both"),
  /** Shingle length in UTF-16 code units. @default 5 */
  shingleSize: z.number().int().positive().default(5),
  /** Most MinHash functions per text; LSH bands and rows are chosen within it for recall at the threshold. @default 64 */
  maxHashes: z.number().int().positive().default(64),
  /** Wanted LSH recall for a pair at exactly the threshold. @default 0.99 */
  recall: z.number().gt(0).lt(1).default(0.99),
  /** How MinHash signatures are computed (see {@link MinHashMethod}). @default "one-permutation" */
  hashing: z.enum(["one-permutation", "independent"]).default("one-permutation"),
  /** Seed of the MinHash functions. @default 0 */
  seed: z.number().int().default(0),
});

/** Input form of {@link DeduplicateOptions}, typed for the sample type. */
export type DeduplicateOptions<T = Sample> = Omit<z.input<typeof DeduplicateOptions>, "key"> & {
  key?: "input" | "output" | "both" | ((sample: T) => string);
};

/** Which samples {@link findNearDuplicates} keeps and which it removes, and why. */
export interface NearDuplicateReport {
  /** Positions of the kept samples, ascending. */
  kept: number[];
  /** Each removed sample: its position, the kept sample it duplicates and their similarity. */
  removed: Array<{ index: number; duplicateOf: number; similarity: number }>;
}

/**
 * Parses the options shared by {@link findNearDuplicates} and `decontaminate`: an empty index, the sample
 * fields the key reads (to check the samples with), and the text a sample is compared on (`name[i]` names it
 * when a key function returns no string).
 * @internal
 */
export function nearDuplicateSetup<T extends SampleLike>(options: DeduplicateOptions<T>, what: string) {
  const parsed = parseWith(DeduplicateOptions, options, { what });
  const key = parsed.key as "input" | "output" | "both" | ((sample: T) => string);
  const fields: ReadonlyArray<"input" | "output"> =
    key === "both" ? ["input", "output"] : typeof key === "function" ? [] : [key];
  const index = new NearDuplicateIndex({
    threshold: parsed.threshold,
    shingleSize: parsed.shingleSize,
    maxHashes: parsed.maxHashes,
    recall: parsed.recall,
    hashing: parsed.hashing satisfies MinHashMethod,
    seed: parsed.seed,
  });
  const textOf = (sample: T, name: string, i: number): string => {
    if (key === "input") return sample.input;
    if (key === "output") return sample.output;
    if (key === "both") return `${sample.input}\u0000${sample.output}`;
    const text = key(sample);
    if (typeof text !== "string") {
      throw new InvalidArgumentError(`key(${name}[${i}]) returned ${typeof text}, expected a string`, {
        field: "key",
        value: text,
      });
    }
    return text;
  };
  return { index, fields, textOf };
}

/**
 * Finds near-duplicates: walking the samples in order, a sample is removed when its text's character
 * shingles have Jaccard similarity ≥ `threshold` with a sample kept before it; otherwise it is kept. MinHash
 * signatures bucketed by LSH bands propose candidate pairs, and each is verified exactly, so every removal is
 * justified (no false removals); the bands and rows are chosen so a pair at exactly the threshold is found
 * with probability `recall`, pairs above it more often.
 */
export function findNearDuplicates<T extends SampleLike>(
  data: ReadonlyArray<T>,
  options: DeduplicateOptions<T> = {},
): NearDuplicateReport {
  const { index, fields, textOf } = nearDuplicateSetup(options, "deduplicate options");
  checkSamples(data, "data", fields);
  const kept: number[] = [];
  const removed: NearDuplicateReport["removed"] = [];
  for (let i = 0; i < data.length; i++) {
    const match: DuplicateMatch | undefined = index.addIfNew(textOf(data[i] as T, "data", i));
    if (match === undefined) kept.push(i);
    else removed.push({ index: i, duplicateOf: kept[match.index] as number, similarity: match.similarity });
  }
  return { kept, removed };
}

/**
 * Removes near-duplicates, keeping the first occurrence (see {@link findNearDuplicates} for the method).
 * `threshold: 1` removes exact duplicates only. Deterministic for a seed, and idempotent: de-duplicating the
 * result again removes nothing.
 *
 * @example
 * ```ts
 * const unique = deduplicate(samples, { threshold: 0.9 });          // compares input and output
 * const byPrompt = deduplicate(samples, { threshold: 0.8, key: "input" });
 * ```
 */
export function deduplicate<T extends SampleLike>(
  data: ReadonlyArray<T>,
  options: DeduplicateOptions<T> = {},
): T[] {
  return findNearDuplicates(data, options).kept.map((i) => data[i] as T);
}
