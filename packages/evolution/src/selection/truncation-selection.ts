import { InvalidArgumentError } from "@orbiter/types";
import { checkCount, checkScores, rankByScore } from "./rank-by-score.js";

/** Options of {@link truncationSelection}: either a `count` or a `ratio` of the population. */
export interface TruncationOptions {
  /** Number of candidates to keep. */
  count?: number | undefined;
  /** Share of the population to keep, in (0, 1]; `max(1, floor(n × ratio))` candidates. @default 0.5 */
  ratio?: number | undefined;
}

/**
 * Keeps the best candidates, best first (ties: earlier first). The pipeline's default selection.
 *
 * @example
 * ```ts
 * truncationSelection(["a", "b", "c", "d"], [1, 4, 3, 2], { ratio: 0.5 }); // ["b", "c"]
 * ```
 */
export function truncationSelection<C>(
  population: readonly C[],
  scores: readonly number[],
  options: TruncationOptions = {},
): C[] {
  const size = checkScores(population, scores);
  let count: number;
  if (options.count !== undefined) {
    count = checkCount(options.count);
  } else {
    const ratio = options.ratio ?? 0.5;
    if (!(ratio > 0 && ratio <= 1)) {
      throw new InvalidArgumentError(`ratio must be in (0, 1], got ${ratio}`, {
        field: "ratio",
        value: ratio,
      });
    }
    count = Math.max(1, Math.floor(size * ratio));
  }
  return rankByScore(scores)
    .slice(0, count)
    .map((index) => population[index] as C);
}
