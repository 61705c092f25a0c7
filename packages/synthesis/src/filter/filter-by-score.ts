import { InvalidArgumentError, parseWith } from "@orbiter/types";
import { z } from "zod";

/** Options of {@link filterByScore}. */
export const FilterByScoreOptions = z.strictObject({
  /** Lowest score kept (inclusive). */
  minScore: z.number().refine(Number.isFinite, "must be a finite number"),
});

/** Input form of {@link FilterByScoreOptions}. */
export type FilterByScoreOptions = z.input<typeof FilterByScoreOptions>;

/**
 * The samples whose `score` is at least `minScore`, in their original order. Samples without a score are
 * dropped (an unscored sample has not shown it is good enough); a score that is not a finite number is an
 * error naming the sample (`data[3].score`).
 *
 * @example
 * ```ts
 * filterByScore(samples, { minScore: 0.7 });
 * ```
 */
export function filterByScore<T extends { score?: number | undefined }>(
  data: ReadonlyArray<T>,
  options: FilterByScoreOptions,
): T[] {
  const { minScore } = parseWith(FilterByScoreOptions, options, { what: "filterByScore options" });
  if (!Array.isArray(data)) {
    throw new InvalidArgumentError("data must be an array of samples", { field: "data", value: data });
  }
  const kept: T[] = [];
  for (let i = 0; i < data.length; i++) {
    const sample = data[i] as T;
    const score = sample?.score;
    if (score === undefined) continue;
    if (typeof score !== "number" || !Number.isFinite(score)) {
      throw new InvalidArgumentError(`data[${i}].score must be a finite number, got ${String(score)}`, {
        field: `data[${i}].score`,
        value: score,
      });
    }
    if (score >= minScore) kept.push(sample);
  }
  return kept;
}
