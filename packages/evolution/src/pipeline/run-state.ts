import type { SeededRandom } from "@orbiter/types";
import type { EpochStats, EvaluationFailure } from "./evolution-result.js";

/** The mutable state of an evolution run: everything a checkpoint holds. */
export interface RunState<C> {
  /** The generation to process next. */
  nextEpoch: number;
  /** The population of that generation. */
  population: C[];
  /** Scores carried over with the elites (index-aligned with `population`; undefined for new offspring). */
  carried: Array<number | undefined>;
  /** The generator of every random choice. */
  rng: SeededRandom;
  /** Scores by candidate key. */
  cache: Map<string, number>;
  /** Statistics of every generation so far. */
  history: EpochStats[];
  /** The best candidate so far. */
  best: { candidate: C; score: number; epoch: number } | undefined;
  /** The best score the patience counter compares with. */
  patienceBest: number;
  /** Generations without improvement. */
  stale: number;
  /** Evaluations run so far. */
  evaluations: number;
  /** Scores reused so far. */
  cacheHits: number;
  /** Every failed evaluation so far. */
  failures: EvaluationFailure[];
}
