import type { SeededRandom } from "@orbiter/types";
import { checkCount, checkScores } from "./rank-by-score.js";

/** Options of {@link tournamentSelection}. */
export interface TournamentOptions {
  /** Number of winners to return. */
  count: number;
  /** Random generator (the pipeline passes its own in the selection context). */
  rng: SeededRandom;
  /** Entrants per tournament, drawn with replacement; larger means greedier. @default 3 */
  size?: number | undefined;
}

/**
 * Runs `count` tournaments; each draws `size` candidates at random and keeps the best (ties: the one drawn first).
 * The same candidate may win several times.
 *
 * @example
 * ```ts
 * const parents = tournamentSelection(population, scores, { count: 10, size: 3, rng: new SeededRandom(1) });
 * ```
 */
export function tournamentSelection<C>(
  population: readonly C[],
  scores: readonly number[],
  options: TournamentOptions,
): C[] {
  const total = checkScores(population, scores);
  const count = checkCount(options.count);
  const size = checkCount(options.size ?? 3, "size");
  if (total === 0) return [];
  const winners: C[] = [];
  for (let round = 0; round < count; round++) {
    let best = options.rng.integer(0, total - 1);
    for (let entrant = 1; entrant < size; entrant++) {
      const challenger = options.rng.integer(0, total - 1);
      if ((scores[challenger] as number) > (scores[best] as number)) best = challenger;
    }
    winners.push(population[best] as C);
  }
  return winners;
}
