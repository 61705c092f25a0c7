import type { Sample } from "@orbiter/types";
import type { StepProgress } from "./data-synthesiser.js";

/** What the progress callback receives. */
export interface SynthesisProgress {
  /** `"seed"` while the seed data is filtered, `"step"` while steps run, `"done"` at the end. */
  phase: "seed" | "step" | "done";
  /** 0-based round, or -1 in the seed phase. */
  round: number;
  /** Name and position of the running step, in the `"step"` phase. */
  step?: { name: string; index: number };
  /** What the step itself last reported, when it reports progress. */
  stepProgress?: StepProgress;
  /** Samples kept so far (seed included). */
  kept: number;
  /** The target size. */
  target: number;
  /** New samples returned by steps so far. */
  generated: number;
  /** Samples filtered out so far (below score and duplicates). */
  filtered: number;
  /** `kept / target`, capped at 1 (1 when the target is 0). */
  fraction: number;
}

/** Statistics of one step over a run. */
export interface StepStatistics {
  /** The step's name. */
  name: string;
  /** How many times it was called. */
  calls: number;
  /** Samples it returned. */
  generated: number;
  /** Of those, samples kept. */
  accepted: number;
  /** Of those, dropped for scoring below `minScore` (or being unscored with `dropUnscored`). */
  belowScore: number;
  /** Of those, dropped as near-duplicates of a kept sample. */
  duplicate: number;
  /** Of those, not looked at because the target was already reached. */
  surplus: number;
  /** Units of work it reported as failed. */
  failed: number;
  /** Time spent inside its `synthesise` in this process, in milliseconds. */
  durationMs: number;
}

/** A failure reported by a step, with where it happened. */
export interface SynthesisFailureRecord {
  /** 0-based round. */
  round: number;
  /** Position of the step. */
  step: number;
  /** The step's own index of the failed unit. */
  index: number;
  /** What went wrong. */
  message: string;
  /** Attempts made. */
  attempts: number;
}

/** Why a run stopped. */
export type SynthesisStopReason = "target" | "max-rounds" | "exhausted";

/** The outcome of {@link SynthesisPipeline.run}. */
export interface SynthesisResult {
  /** Every kept sample: surviving seed samples first, then accepted new ones in acceptance order. */
  items: Sample[];
  /** Seed samples kept. */
  seedCount: number;
  /** New samples returned by the steps (before filtering). */
  generatedCount: number;
  /** New samples kept. */
  acceptedCount: number;
  /** Samples dropped (seed and new): `filtered.belowScore + filtered.duplicate`. */
  filteredCount: number;
  /** The dropped samples by reason. */
  filtered: { belowScore: number; duplicate: number };
  /** New samples not looked at because the target was reached (not scored, not kept). */
  surplusCount: number;
  /** Units of work the steps reported as failed (e.g. generator calls that failed after their retries). */
  failedCount: number;
  /** The first failures (at most 1000), with their messages. */
  failures: SynthesisFailureRecord[];
  /** Rounds in which steps were called. */
  rounds: number;
  /** Why the run stopped. */
  stopReason: SynthesisStopReason;
  /** True when the target size was reached. */
  reachedTarget: boolean;
  /** True when the run continued from a checkpoint. */
  resumed: boolean;
  /** Per-step statistics, in step order. */
  steps: StepStatistics[];
  /** Where the time went (this process only), in milliseconds. */
  timings: { totalMs: number; seedMs: number; stepsMs: number; scoringMs: number; filteringMs: number };
}
