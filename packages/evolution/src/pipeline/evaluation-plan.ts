import type { EvaluationReporter } from "./evaluation-reporter.js";

/** Which candidates of a generation need an evaluation, and the scores already known. */
export interface EvaluationPlan {
  /** Scores by index (carried and cached ones filled in; the rest once evaluated). */
  scores: number[];
  /** Cache key of each candidate evaluated or looked up (undefined without cache or key). */
  keys: Array<string | undefined>;
  /** Whether each score comes from a failed evaluation (carried and cached scores never do). */
  failed: boolean[];
  /** Indices to evaluate, in order. */
  pending: number[];
  /** `[index, first]`: a candidate with the same key as the pending candidate `first`, which it copies. */
  duplicates: Array<[number, number]>;
  /** Scores reused (cache and duplicates). */
  hits: number;
}

/**
 * Plans the evaluations of a generation: a carried elite keeps its score; with the cache on, a candidate whose
 * key is cached reuses the score (reported as cached) and one whose key repeats an earlier pending candidate
 * will copy that candidate's score; every other candidate is pending.
 */
export function planEvaluations<C>(
  population: ReadonlyArray<C>,
  carried: ReadonlyArray<number | undefined>,
  cache: ReadonlyMap<string, number> | undefined,
  keyOf: (candidate: C) => string | undefined,
  reporter: EvaluationReporter,
): EvaluationPlan {
  const total = population.length;
  const plan: EvaluationPlan = {
    scores: new Array<number>(total),
    keys: new Array<string | undefined>(total),
    failed: new Array<boolean>(total).fill(false),
    pending: [],
    duplicates: [],
    hits: 0,
  };
  const firstOfKey = new Map<string, number>();
  for (let index = 0; index < total; index++) {
    const kept = carried[index];
    if (kept !== undefined) {
      plan.scores[index] = kept;
      reporter.carried();
      continue;
    }
    if (cache !== undefined) {
      const key = keyOf(population[index] as C);
      plan.keys[index] = key;
      if (key !== undefined) {
        const cached = cache.get(key);
        if (cached !== undefined) {
          plan.scores[index] = cached;
          plan.hits++;
          reporter.scored(index, cached, true);
          continue;
        }
        const first = firstOfKey.get(key);
        if (first !== undefined) {
          plan.duplicates.push([index, first]);
          continue;
        }
        firstOfKey.set(key, index);
      }
    }
    plan.pending.push(index);
  }
  return plan;
}

/** Gives each duplicate the score (and failure) of the candidate it repeats, once those are evaluated. */
export function settleDuplicates(plan: EvaluationPlan, reporter: EvaluationReporter): void {
  for (const [index, first] of plan.duplicates) {
    plan.scores[index] = plan.scores[first] as number;
    plan.failed[index] = plan.failed[first] as boolean;
    plan.hits++;
    reporter.scored(index, plan.scores[index] as number, true);
  }
}
