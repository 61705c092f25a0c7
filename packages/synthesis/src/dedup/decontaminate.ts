import { checkSamples } from "../internal/check-samples.js";
import type { SampleLike } from "../internal/sample-like.js";
import { type DeduplicateOptions, nearDuplicateSetup } from "./deduplicate.js";

/** The outcome of {@link decontaminate}. */
export interface DecontaminationResult<T> {
  /** The samples that near-duplicate nothing in the reference set, in their original order. */
  kept: T[];
  /** Each removed sample's position, the reference sample it matches and their similarity. */
  removed: Array<{ index: number; reference: number; similarity: number }>;
}

/**
 * Removes the samples that near-duplicate any sample of a reference set — typically an evaluation or test
 * set, so that training data does not leak it. Same method and options as {@link deduplicate} (MinHash + LSH
 * candidates, each verified by exact Jaccard of character shingles); samples are not compared with each
 * other, only with the reference.
 *
 * @example
 * ```ts
 * const { kept, removed } = decontaminate(train, test, { threshold: 0.8, key: "input" });
 * ```
 */
export function decontaminate<T extends SampleLike, R extends SampleLike = T>(
  data: ReadonlyArray<T>,
  reference: ReadonlyArray<R>,
  options: DeduplicateOptions<T | R> = {},
): DecontaminationResult<T> {
  const { index, fields, textOf } = nearDuplicateSetup<T | R>(options, "decontaminate options");
  checkSamples(data, "data", fields);
  checkSamples(reference, "reference", fields);
  reference.forEach((sample, i) => {
    index.add(textOf(sample, "reference", i));
  });
  const kept: T[] = [];
  const removed: DecontaminationResult<T>["removed"] = [];
  data.forEach((sample, i) => {
    const match = index.find(textOf(sample, "data", i));
    if (match === undefined) kept.push(sample);
    else removed.push({ index: i, reference: match.index, similarity: match.similarity });
  });
  return { kept, removed };
}
