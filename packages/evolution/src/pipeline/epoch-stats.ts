import type { EpochStats } from "./evolution-result.js";
import type { RunState } from "./run-state.js";

/** What evaluating one generation produced. */
export interface GenerationScores {
  /** Scores by index. */
  scores: number[];
  /** Cache keys by index (when the cache is on). */
  keys: Array<string | undefined>;
  /** Evaluations run. */
  evaluations: number;
  /** Scores reused. */
  hits: number;
  /** Failed evaluations. */
  failures: number;
}

/**
 * Summarises a generation (best, mean and worst of the finite scores, diversity of keys, counters), updates the
 * run's best candidate, and appends the summary to the run's history.
 */
export function recordEpoch<C>(
  state: RunState<C>,
  evaluated: GenerationScores,
  epoch: number,
  keyOf: (candidate: C) => string | undefined,
): EpochStats {
  const { population } = state;
  const { scores, keys } = evaluated;
  let best = Number.NEGATIVE_INFINITY;
  let worst = Number.POSITIVE_INFINITY;
  let sum = 0;
  let finite = 0;
  for (let index = 0; index < scores.length; index++) {
    const score = scores[index] as number;
    if (score > best) best = score;
    if (Number.isFinite(score)) {
      sum += score;
      finite++;
      if (score < worst) worst = score;
    }
    if (state.best === undefined || score > state.best.score) {
      state.best = { candidate: population[index] as C, score, epoch };
    }
  }
  const distinct = new Set<unknown>();
  for (let index = 0; index < population.length; index++) {
    const key = keys[index] ?? keyOf(population[index] as C);
    distinct.add(key ?? population[index]);
  }
  const stats: EpochStats = {
    epoch,
    best,
    mean: finite === 0 ? Number.NEGATIVE_INFINITY : sum / finite,
    worst: finite === 0 ? Number.NEGATIVE_INFINITY : worst,
    diversity: population.length === 0 ? 0 : distinct.size / population.length,
    evaluations: evaluated.evaluations,
    cacheHits: evaluated.hits,
    failures: evaluated.failures,
    bestSoFar: state.best?.score ?? Number.NEGATIVE_INFINITY,
  };
  state.history.push(stats);
  return stats;
}
