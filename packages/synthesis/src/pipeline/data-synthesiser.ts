import type { Sample, SampleInput, SeededRandom } from "@orbiter/types";
import type { SynthesisConfig } from "./synthesis-config.js";

/** Progress a step reports while it works (e.g. how many generator calls have finished). */
export interface StepProgress {
  /** Units of work done so far in this call. */
  completed: number;
  /** Units of work planned for this call, when known. */
  total?: number;
  /** A short human-readable note. */
  message?: string;
}

/** A unit of work a step could not complete (a generator call that failed after its retries, ...). */
export interface SynthesisFailure {
  /** Which unit failed, e.g. the position of the generator call in the batch. */
  index: number;
  /** What went wrong. */
  message: string;
  /** Attempts made before giving up. */
  attempts: number;
  /** The error itself, when there is one. */
  error?: unknown;
}

/** What a step receives on every call besides the source samples. */
export interface SynthesisContext {
  /** The pipeline configuration (parsed, defaults filled in). */
  readonly config: SynthesisConfig;
  /** A generator seeded from the run seed, the round and the step: the same inputs give the same draws. */
  readonly rng: SeededRandom;
  /** Aborts the run; long-running steps should pass it on (to generator calls) and stop when it fires. */
  readonly signal: AbortSignal;
  /** 0-based round number. */
  readonly round: number;
  /** Position of the step in the pipeline. */
  readonly stepIndex: number;
  /** How many more samples the pipeline still wants; a hint for how many to produce. */
  readonly needed: number;
  /**
   * How many samples this step returned in its earlier calls of this run. A step whose output depends only
   * on this count (and `rng`) can be replayed exactly when a run resumes from a checkpoint.
   */
  readonly produced: number;
  /** Reports progress of this call. */
  onProgress(progress: StepProgress): void;
  /** Reports a unit of work that failed; the pipeline counts it and lists it in the result. */
  reportFailure(failure: SynthesisFailure): void;
}

/** Anything the pipeline can call for new samples: a {@link DataSynthesiser} or a plain object of that shape. */
export interface SynthesisStep {
  /** Name shown in statistics and progress. @default the class name, or `step-<index>` */
  readonly name?: string;
  /**
   * Returns new samples; ids may be omitted (the pipeline then assigns deterministic ones). `source` is a
   * read-only view of the kept samples that does not change during the call.
   */
  synthesise(
    source: ReadonlyArray<Sample>,
    context: SynthesisContext,
  ): Promise<ReadonlyArray<SampleInput>> | ReadonlyArray<SampleInput>;
}

/**
 * Base class of data synthesisers: something that, given the samples kept so far, produces new ones.
 * Subclasses implement {@link DataSynthesiser.synthesise}; randomness should come from `context.rng` so that
 * a pipeline run is reproducible from its seed.
 *
 * @example
 * ```ts
 * class Paraphraser extends DataSynthesiser {
 *   synthesise(source: readonly Sample[], context: SynthesisContext) {
 *     return source.slice(0, context.needed).map((s) => ({ input: `Please: ${s.input}`, output: s.output }));
 *   }
 * }
 * ```
 */
export abstract class DataSynthesiser implements SynthesisStep {
  /** Name shown in statistics and progress. @default the class name */
  get name(): string {
    return this.constructor.name;
  }

  /**
   * Produces new samples from `source`: the samples kept so far, a read-only view that does not change during
   * the call (copy it to keep it for later).
   */
  abstract synthesise(
    source: ReadonlyArray<Sample>,
    context: SynthesisContext,
  ): Promise<ReadonlyArray<SampleInput>> | ReadonlyArray<SampleInput>;
}
