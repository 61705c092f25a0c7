import type { EvolutionPhase } from "./evolution-phase.js";

/** Statistics of one generation, as kept in {@link EvolutionResult.history}. */
export interface EpochStats {
  /** 0-based generation. */
  epoch: number;
  /** Highest score of the generation. */
  best: number;
  /** Mean of its finite scores (−∞ when there is none). */
  mean: number;
  /** Lowest finite score (−∞ when there is none). */
  worst: number;
  /** Share of distinct candidates (by `key`) in the population, in (0, 1]. */
  diversity: number;
  /** Evaluations made in this generation. */
  evaluations: number;
  /** Scores taken from the cache (or from an identical candidate of the same generation). */
  cacheHits: number;
  /** Evaluations that threw (scored −∞). */
  failures: number;
  /** Best score seen so far in the run. */
  bestSoFar: number;
}

/** An evaluation that threw (or returned something that is not a number) and scored −∞. */
export interface EvaluationFailure {
  /** Generation. */
  epoch: number;
  /** Position of the candidate in the population. */
  index: number;
  /** The error's message. */
  message: string;
  /** The error itself (not kept in checkpoints). */
  error?: unknown;
}

/** Why a run stopped. */
export type StopReason = "epochs" | "target" | "patience";

/** What {@link EvolutionPipeline.run} returns. */
export interface EvolutionResult<C> {
  /** The best candidate evaluated in the whole run (ties: the first found). */
  best: C;
  /** Its score. */
  bestScore: number;
  /** The generation it was first evaluated in. */
  bestEpoch: number;
  /** Generations evaluated. */
  epochsCompleted: number;
  /** Why the run stopped: all epochs done, `targetScore` reached, or `patience` exhausted. */
  stopReason: StopReason;
  /** One entry per generation. */
  history: EpochStats[];
  /** Calls of `strategy.evaluate` made by the run (resumed runs count those before the checkpoint too). */
  evaluations: number;
  /** Scores reused instead of evaluating again. */
  cacheHits: number;
  /** Every evaluation that failed. */
  failures: EvaluationFailure[];
  /** The last generation evaluated. */
  population: C[];
  /** Its scores, index-aligned with `population`. */
  scores: number[];
}

/** A progress event of an evolution run. */
export type EvolutionProgressEvent =
  | { type: "phase"; epoch: number; phase: EvolutionPhase }
  | {
      type: "evaluation";
      epoch: number;
      index: number;
      score: number;
      /** True when the score came from the cache. */
      cached: boolean;
      /** The error's message when the evaluation failed. */
      error?: string;
      /** Candidates of this generation scored so far. */
      completed: number;
      /** Candidates in the generation. */
      total: number;
    }
  | { type: "epoch"; epoch: number; stats: EpochStats }
  | { type: "checkpoint"; epoch: number; path: string }
  | { type: "stop"; epoch: number; reason: StopReason };
