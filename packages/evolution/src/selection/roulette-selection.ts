import type { SeededRandom } from "@orbiter/types";
import { checkCount, checkScores } from "./rank-by-score.js";

/** Options of {@link rouletteSelection}. */
export interface RouletteOptions {
  /** Number of picks. */
  count: number;
  /** Random generator. */
  rng: SeededRandom;
}

/**
 * Fitness-proportional selection: picks `count` candidates (with replacement) with probability proportional to
 * their score minus the lowest finite score, plus a small floor so the worst still has a chance. Candidates
 * scored −∞ (failed evaluations) are never picked unless all are; equal scores pick uniformly.
 *
 * @example
 * ```ts
 * const parents = rouletteSelection(population, scores, { count: 10, rng: new SeededRandom(1) });
 * ```
 */
export function rouletteSelection<C>(
  population: readonly C[],
  scores: readonly number[],
  options: RouletteOptions,
): C[] {
  const total = checkScores(population, scores);
  const count = checkCount(options.count);
  if (total === 0) return [];
  const finite = scores.filter((score) => Number.isFinite(score));
  let weights: number[];
  if (scores.some((score) => score === Number.POSITIVE_INFINITY)) {
    weights = scores.map((score) => (score === Number.POSITIVE_INFINITY ? 1 : 0));
  } else if (finite.length === 0) {
    weights = scores.map(() => 1);
  } else {
    let low = Number.POSITIVE_INFINITY;
    let high = Number.NEGATIVE_INFINITY;
    for (const score of finite) {
      if (score < low) low = score;
      if (score > high) high = score;
    }
    const floor = high > low ? (high - low) * 1e-3 : 1;
    weights = scores.map((score) => (Number.isFinite(score) ? score - low + floor : 0));
  }
  const picks: C[] = [];
  for (let pick = 0; pick < count; pick++) picks.push(population[options.rng.weightedIndex(weights)] as C);
  return picks;
}
