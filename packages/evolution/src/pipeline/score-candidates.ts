import { deriveSeed, InvalidArgumentError, messageOf } from "@orbiter/types";
import { abortError, runPool } from "../internal/run-pool.js";
import type { EvolutionStrategy } from "../strategy/evolution-strategy.js";
import type { EvaluationPlan } from "./evaluation-plan.js";
import type { EvaluationReporter } from "./evaluation-reporter.js";
import type { EvaluationFailure } from "./evolution-result.js";

/** What {@link scoreCandidates} needs besides the plan. */
export interface ScoringContext<C> {
  strategy: EvolutionStrategy<C>;
  population: ReadonlyArray<C>;
  epoch: number;
  /** Evaluations running at once. */
  concurrency: number;
  /** Reject on the first failed evaluation instead of scoring it −∞. */
  failOnError: boolean;
  /** The run's seed (each evaluation gets one derived from it, the epoch and the index). */
  seed: number;
  /** Where successful scores are cached by key (undefined when the cache is off). */
  cache: Map<string, number> | undefined;
  signal: AbortSignal;
  reporter: EvaluationReporter;
}

/**
 * Evaluates the plan's pending candidates (at most `concurrency` at once) and fills in their scores. A throwing
 * evaluation, or one returning something other than a number, scores −∞ and is recorded as a failure (with
 * `failOnError` it rejects instead and no further evaluation starts); successful scores go into the cache.
 *
 * @returns the failures, in population order (when it resolves, every pending candidate was evaluated once)
 */
export async function scoreCandidates<C>(
  plan: EvaluationPlan,
  context: ScoringContext<C>,
): Promise<EvaluationFailure[]> {
  const { strategy, population, epoch, seed, signal, reporter, cache } = context;
  const failures: EvaluationFailure[] = [];
  await runPool(
    plan.pending.length,
    context.concurrency,
    async (slot) => {
      const index = plan.pending[slot] as number;
      const evaluation = { epoch, index, seed: deriveSeed(seed, "evaluate", epoch, index), signal };
      let score: number;
      let failure: string | undefined;
      try {
        const value: unknown = await strategy.evaluate(population[index] as C, evaluation);
        if (typeof value !== "number" || Number.isNaN(value)) {
          throw new InvalidArgumentError(
            `strategy.evaluate() returned ${String(value)} instead of a number`,
            {
              field: "strategy.evaluate",
              value,
            },
          );
        }
        score = value;
      } catch (error) {
        if (signal.aborted) throw abortError(signal);
        // The pool rejects with the first error and starts no other evaluation.
        if (context.failOnError) throw error;
        score = Number.NEGATIVE_INFINITY;
        plan.failed[index] = true;
        failure = messageOf(error);
        failures.push({ epoch, index, message: failure, error });
      }
      plan.scores[index] = score;
      const key = plan.keys[index];
      if (failure === undefined && key !== undefined) cache?.set(key, score);
      reporter.scored(index, score, false, failure);
    },
    signal,
  );
  failures.sort((a, b) => a.index - b.index);
  return failures;
}
