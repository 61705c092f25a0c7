import {
  deriveSeed,
  InvalidArgumentError,
  InvalidStateError,
  OrbiterError,
  PhaseError,
  parseWith,
  RewardError,
  type Sample,
  type SampleInput,
  SeededRandom,
} from "@orbiter/types";
import { NearDuplicateIndex } from "../dedup/near-duplicate-index.js";
import { throwIfAborted } from "../internal/abort.js";
import { hashString } from "../internal/hash.js";
import { mapConcurrent } from "../internal/map-concurrent.js";
import { toSample } from "../internal/to-sample.js";
import { type SampleSource, toSampleInputs } from "../sample-source.js";
import { CheckpointLog, type RunCounters } from "./checkpoint-log.js";
import type { StepProgress, SynthesisContext, SynthesisFailure, SynthesisStep } from "./data-synthesiser.js";
import { dedupText } from "./dedup-text.js";
import { SynthesisConfig, type SynthesisConfigInput } from "./synthesis-config.js";

/** Options of the {@link SynthesisPipeline} constructor. */
export interface SynthesisPipelineOptions {
  /** The configuration (input form; defaults are filled in, unknown keys rejected). @default {} */
  config?: SynthesisConfigInput;
  /** Steps to start with (more can be added with {@link SynthesisPipeline.addStep}). @default [] */
  steps?: ReadonlyArray<SynthesisStep>;
  /**
   * Path of a JSONL file to which accepted samples are appended as the run goes; a run started again with
   * the same path resumes where the last one stopped. @default undefined (no checkpoint)
   */
  checkpoint?: string;
  /**
   * Flush the checkpoint to the disk after every step call (survives a machine crash, not only a killed
   * process; costs a disk sync per step call). @default false
   */
  durableCheckpoint?: boolean;
}

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

/** Options of {@link SynthesisPipeline.run}. */
export interface SynthesisRunOptions {
  /** Cancels the run; it then rejects with an `AbortedError` (checkpointed work is kept). */
  signal?: AbortSignal;
  /** Called as the run progresses. */
  onProgress?: (progress: SynthesisProgress) => void;
  /** Overrides the constructor's checkpoint path for this run. */
  checkpoint?: string;
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

const MAX_FAILURE_RECORDS = 1000;
const NEVER_ABORTED = new AbortController().signal;
const PROGRESS_EVERY = 1024;

/**
 * A multi-step data synthesis pipeline: it filters and de-duplicates the seed data, then asks its steps for
 * new samples round after round until `targetSize` samples are kept or `maxRounds` is reached. Every new
 * sample is scored (when a scorer is configured), dropped below `minScore`, and dropped when it is a
 * near-duplicate of anything kept so far; checks happen in a fixed order, so the same seed gives the same
 * result. With a `checkpoint` path the run can be killed and started again without losing or repeating
 * samples.
 *
 * @example
 * ```ts
 * const pipeline = new SynthesisPipeline({ config: { targetSize: 1000, minScore: 0.7, dedupThreshold: 0.9 } });
 * pipeline.addStep(new TemplateSynthesiser({ templates: ["Explain {c}"], variables: { c: ["Rust", "Go"] } }));
 * const result = await pipeline.run(seedData, { onProgress: (p) => console.log(p.fraction) });
 * console.log(result.generatedCount, result.filteredCount, result.items.length);
 * ```
 */
export class SynthesisPipeline {
  /** The parsed configuration. */
  readonly config: SynthesisConfig;
  private readonly stepList: SynthesisStep[] = [];
  private readonly checkpoint: string | undefined;
  private readonly durableCheckpoint: boolean;
  private running = false;

  constructor(options: SynthesisPipelineOptions = {}) {
    this.config = parseWith(SynthesisConfig, options.config ?? {}, {
      what: "SynthesisConfig",
      path: "config",
    });
    if (options.checkpoint !== undefined && (typeof options.checkpoint !== "string" || !options.checkpoint)) {
      throw new InvalidArgumentError("checkpoint must be a non-empty path", { field: "checkpoint" });
    }
    this.checkpoint = options.checkpoint;
    this.durableCheckpoint = options.durableCheckpoint === true;
    for (const step of options.steps ?? []) this.addStep(step);
  }

  /** The steps, in the order they are called. */
  get steps(): ReadonlyArray<SynthesisStep> {
    return this.stepList;
  }

  /** Appends a step; returns the pipeline, so calls can be chained. */
  addStep(step: SynthesisStep): this {
    if (step == null || typeof step.synthesise !== "function") {
      throw new InvalidArgumentError("A step must have a synthesise(source, context) method", {
        field: `steps[${this.stepList.length}]`,
      });
    }
    this.stepList.push(step);
    return this;
  }

  /**
   * Runs the pipeline on `seedData` (samples, sample inputs, or anything with `toSamples()`, such as a
   * trajectory dataset).
   */
  async run(seedData: SampleSource = [], options: SynthesisRunOptions = {}): Promise<SynthesisResult> {
    if (this.running) throw new InvalidStateError("This pipeline is already running", { state: "running" });
    this.running = true;
    try {
      return await new PipelineRun(
        this.config,
        this.stepList,
        seedData,
        options,
        this.checkpoint,
        this.durableCheckpoint,
      ).execute();
    } finally {
      this.running = false;
    }
  }
}

/** Display name of a step. */
function stepName(step: SynthesisStep, index: number): string {
  const name = step.name;
  return typeof name === "string" && name !== "" ? name : `step-${index}`;
}

/** One execution of a pipeline: its state lives here so that `run` can be called again. */
class PipelineRun {
  private readonly items: Sample[] = [];
  private readonly ids = new Set<string>();
  private readonly index: NearDuplicateIndex;
  private readonly signal: AbortSignal | undefined;
  private readonly onProgress: ((progress: SynthesisProgress) => void) | undefined;
  private readonly checkpointPath: string | undefined;
  private log: CheckpointLog | undefined;
  private counters: RunCounters;
  private readonly durations: number[];
  private readonly timings = { totalMs: 0, seedMs: 0, stepsMs: 0, scoringMs: 0, filteringMs: 0 };
  private resumed = false;

  constructor(
    private readonly config: SynthesisConfig,
    private readonly steps: ReadonlyArray<SynthesisStep>,
    private readonly seedData: SampleSource,
    options: SynthesisRunOptions,
    checkpoint: string | undefined,
    private readonly durableCheckpoint: boolean,
  ) {
    this.signal = options.signal;
    this.onProgress = options.onProgress;
    this.checkpointPath = options.checkpoint ?? checkpoint;
    this.index = new NearDuplicateIndex({
      threshold: config.dedupThreshold,
      shingleSize: config.shingleSize,
      seed: config.seed,
    });
    this.durations = steps.map(() => 0);
    this.counters = {
      generated: 0,
      belowScore: 0,
      duplicate: 0,
      surplus: 0,
      failed: 0,
      seedInput: 0,
      seedKept: 0,
      rounds: 0,
      roundProduced: 0,
      steps: steps.map(() => ({
        calls: 0,
        produced: 0,
        accepted: 0,
        belowScore: 0,
        duplicate: 0,
        surplus: 0,
        failed: 0,
      })),
      failures: [],
    };
  }

  async execute(): Promise<SynthesisResult> {
    const started = performance.now();
    const seed = this.parseSeed();
    let startRound = 0;
    let startStep = 0;
    let seedDone = false;
    let resumedAfterEmptyRound = false;
    try {
      if (this.checkpointPath !== undefined) {
        const { log, state } = CheckpointLog.open(
          this.checkpointPath,
          this.fingerprint(seed),
          this.durableCheckpoint,
        );
        this.log = log;
        if (state.counters) {
          this.resumed = true;
          seedDone = true;
          this.counters = state.counters;
          for (const sample of state.samples) {
            this.items.push(sample);
            this.ids.add(sample.id);
            this.index.add(dedupText(sample, this.config.dedupKey));
          }
          if (state.last) {
            startRound = state.last.round;
            startStep = state.last.step + 1;
            if (startStep >= this.steps.length) {
              startRound++;
              startStep = 0;
              resumedAfterEmptyRound = this.counters.roundProduced === 0;
            }
          }
        }
      }
      if (!seedDone) await this.processSeed(seed);
      const target = this.config.targetSize;
      let stopReason: SynthesisStopReason = "max-rounds";
      if (resumedAfterEmptyRound && this.items.length < target) stopReason = "exhausted";
      else {
        for (let round = startRound; round < this.config.maxRounds; round++) {
          if (this.items.length >= target) break;
          if (this.steps.length === 0) {
            stopReason = "exhausted";
            break;
          }
          const first = round === startRound ? startStep : 0;
          if (first === 0) this.counters.roundProduced = 0;
          for (let s = first; s < this.steps.length; s++) {
            if (this.items.length >= target) break;
            await this.callStep(round, s);
          }
          if (this.items.length < target && this.counters.roundProduced === 0) {
            stopReason = "exhausted";
            break;
          }
        }
      }
      const reachedTarget = this.items.length >= target;
      if (reachedTarget) stopReason = "target";
      this.timings.totalMs = performance.now() - started;
      this.emit("done", this.counters.rounds - 1);
      return this.result(stopReason, reachedTarget);
    } finally {
      this.log?.close();
    }
  }

  private parseSeed(): Sample[] {
    const inputs = toSampleInputs(this.seedData, "seedData");
    return inputs.map((input, i) =>
      toSample(input, () => `seed-${i}`, { what: "seed sample", path: `seedData[${i}]` }),
    );
  }

  /** Identifies what determines a run's kept items, so a checkpoint is never resumed by a different run. */
  private fingerprint(seed: Sample[]): string {
    const { config } = this;
    const parts = [
      "synthesis-checkpoint-v1",
      config.seed,
      config.minScore ?? "none",
      config.dropUnscored,
      config.dedupThreshold,
      typeof config.dedupKey === "function" ? "function" : config.dedupKey,
      config.shingleSize,
      this.steps.map((step, i) => stepName(step, i)).join("|"),
    ].join("\n");
    let hash = hashString(parts);
    let second = hashString(parts, 0x5bd1e995);
    for (const sample of seed) {
      const text = `${sample.id}\u0000${sample.input}\u0000${sample.output}\u0000${sample.score ?? ""}`;
      hash = hashString(text, hash);
      second = hashString(text, second ^ 0x27d4eb2f);
    }
    return `${hash.toString(16).padStart(8, "0")}${second.toString(16).padStart(8, "0")}:${seed.length}`;
  }

  private async processSeed(seed: Sample[]): Promise<void> {
    const started = performance.now();
    this.counters.seedInput = seed.length;
    this.emit("seed", -1);
    await this.screen(seed, undefined);
    this.log?.appendMarker(-1, -1, this.counters);
    this.timings.seedMs = performance.now() - started;
    this.emit("seed", -1);
  }

  /** Calls step `s` in round `round` and filters what it returns. */
  private async callStep(round: number, s: number): Promise<void> {
    throwIfAborted(this.signal);
    const step = this.steps[s] as SynthesisStep;
    const name = stepName(step, s);
    const stats = this.counters.steps[s] as RunCounters["steps"][number];
    const failures: SynthesisFailure[] = [];
    const context: SynthesisContext = {
      config: this.config,
      rng: new SeededRandom(deriveSeed(this.config.seed, "round", round, "step", s)),
      signal: this.signal ?? NEVER_ABORTED,
      round,
      stepIndex: s,
      needed: Math.max(0, this.config.targetSize - this.items.length),
      produced: stats.produced,
      onProgress: (progress) => this.emit("step", round, { name, index: s }, progress),
      reportFailure: (failure) => failures.push(failure),
    };
    this.emit("step", round, { name, index: s });
    const started = performance.now();
    let output: ReadonlyArray<SampleInput>;
    try {
      // The kept samples themselves, not a copy: they do not change while the step runs.
      output = await step.synthesise(this.items, context);
    } catch (error) {
      if (OrbiterError.isInstance(error)) throw error;
      const message = error instanceof Error ? error.message : String(error);
      throw new PhaseError(`step:${name}`, `Step "${name}" failed in round ${round}: ${message}`, {
        cause: error,
      });
    }
    const elapsed = performance.now() - started;
    this.durations[s] = (this.durations[s] ?? 0) + elapsed;
    this.timings.stepsMs += elapsed;
    throwIfAborted(this.signal);
    if (!Array.isArray(output)) {
      throw new InvalidArgumentError(
        `Step "${name}" returned ${typeof output}, expected an array of samples`,
        {
          field: `steps[${s}]`,
        },
      );
    }
    const samples = output.map((input: SampleInput, i) =>
      toSample(input, () => `${name}-r${round}-${stats.produced + i}`, {
        what: `sample from step "${name}"`,
        path: `steps[${s}].output[${i}]`,
      }),
    );
    stats.calls++;
    stats.produced += samples.length;
    this.counters.generated += samples.length;
    this.counters.roundProduced += samples.length;
    this.counters.rounds = Math.max(this.counters.rounds, round + 1);
    for (const failure of failures) {
      stats.failed++;
      this.counters.failed++;
      if (this.counters.failures.length < MAX_FAILURE_RECORDS) {
        this.counters.failures.push({
          round,
          step: s,
          index: failure.index,
          message: failure.message,
          attempts: failure.attempts,
        });
      }
    }
    await this.screen(samples, { stats, round, name, index: s });
    this.log?.appendMarker(round, s, this.counters);
    this.emit("step", round, { name, index: s });
  }

  /**
   * Scores, filters and de-duplicates samples in order: the seed (`step` undefined; only unscored samples are
   * scored, and all survivors are kept) or a step's output (every sample is scored; stops at the target, the
   * rest counted as surplus). Scorer calls run `concurrency` at a time, skipping known duplicates; decisions
   * are made in sample order, so the outcome does not depend on which call finishes first.
   */
  private async screen(
    samples: Sample[],
    step: { stats: RunCounters["steps"][number]; round: number; name: string; index: number } | undefined,
  ): Promise<void> {
    const { scorer, concurrency, dedupKey } = this.config;
    const limit = step ? this.config.targetSize : Number.POSITIVE_INFINITY;
    const wantsScore = (sample: Sample) =>
      scorer !== undefined && (step !== undefined || sample.score === undefined);
    const chunk = scorer ? concurrency : Math.max(1, samples.length);
    for (let start = 0; start < samples.length; start += chunk) {
      throwIfAborted(this.signal);
      let batch = samples.slice(start, start + chunk);
      let known: boolean[] | undefined;
      if (this.items.length < limit && batch.some(wantsScore)) {
        const filteringStarted = performance.now();
        known = batch.map((sample) => this.index.find(dedupText(sample, dedupKey)) !== undefined);
        this.timings.filteringMs += performance.now() - filteringStarted;
        const scoringStarted = performance.now();
        const scores = await mapConcurrent(batch, concurrency, (sample, i) =>
          known?.[i] || !wantsScore(sample) ? undefined : this.score(sample),
        );
        this.timings.scoringMs += performance.now() - scoringStarted;
        batch = batch.map((sample, i) => {
          const score = scores[i];
          return score === undefined ? sample : { ...sample, score };
        });
      }
      const filteringStarted = performance.now();
      for (let i = 0; i < batch.length; i++) {
        if (this.items.length >= limit && step) {
          const rest = samples.length - start - i;
          step.stats.surplus += rest;
          this.counters.surplus += rest;
          this.timings.filteringMs += performance.now() - filteringStarted;
          return;
        }
        if (i % PROGRESS_EVERY === PROGRESS_EVERY - 1) throwIfAborted(this.signal);
        const sample = batch[i] as Sample;
        const verdict = known?.[i] ? "duplicate" : this.judge(sample);
        if (verdict === "below-score") {
          this.counters.belowScore++;
          if (step) step.stats.belowScore++;
        } else if (verdict === "duplicate") {
          this.counters.duplicate++;
          if (step) step.stats.duplicate++;
        } else {
          this.accept(sample);
          if (step) {
            step.stats.accepted++;
            if (this.items.length % PROGRESS_EVERY === 0) {
              this.emit("step", step.round, { name: step.name, index: step.index });
            }
          } else this.counters.seedKept++;
        }
      }
      this.timings.filteringMs += performance.now() - filteringStarted;
    }
  }

  /**
   * Decides a sample's fate: a near-duplicate of anything kept is a duplicate (whatever its score); otherwise
   * the score filter applies. A kept sample is added to the duplicate index.
   */
  private judge(sample: Sample): "kept" | "duplicate" | "below-score" {
    const { minScore, dropUnscored, dedupKey } = this.config;
    const text = dedupText(sample, dedupKey);
    if (this.index.find(text) !== undefined) return "duplicate";
    if (minScore !== undefined) {
      if (sample.score === undefined ? dropUnscored : sample.score < minScore) return "below-score";
    }
    this.index.add(text);
    return "kept";
  }

  private accept(sample: Sample): void {
    let kept = sample;
    if (this.ids.has(kept.id)) {
      let n = 1;
      while (this.ids.has(`${sample.id}~${n}`)) n++;
      kept = { ...sample, id: `${sample.id}~${n}` };
    }
    this.ids.add(kept.id);
    this.items.push(kept);
    this.log?.appendSample(kept);
  }

  private async score(sample: Sample): Promise<number> {
    const scorer = this.config.scorer;
    if (!scorer) throw new InvalidStateError("No scorer configured");
    let value: number;
    try {
      value = await scorer(sample, { signal: this.signal ?? NEVER_ABORTED });
    } catch (error) {
      throw new RewardError("scorer", `The scorer threw on sample ${sample.id}`, { cause: error });
    }
    if (typeof value !== "number" || !Number.isFinite(value)) {
      throw new RewardError("scorer", `The scorer returned ${String(value)} for sample ${sample.id}`);
    }
    return value;
  }

  private emit(
    phase: SynthesisProgress["phase"],
    round: number,
    step?: { name: string; index: number },
    stepProgress?: StepProgress,
  ): void {
    if (!this.onProgress) return;
    const target = this.config.targetSize;
    const kept = this.items.length;
    const progress: SynthesisProgress = {
      phase,
      round,
      kept,
      target,
      generated: this.counters.generated,
      filtered: this.counters.belowScore + this.counters.duplicate,
      fraction: target === 0 ? 1 : Math.min(1, kept / target),
    };
    if (step) progress.step = step;
    if (stepProgress) progress.stepProgress = stepProgress;
    this.onProgress(progress);
  }

  private result(stopReason: SynthesisStopReason, reachedTarget: boolean): SynthesisResult {
    const c = this.counters;
    return {
      items: this.items,
      seedCount: c.seedKept,
      generatedCount: c.generated,
      acceptedCount: this.items.length - c.seedKept,
      filteredCount: c.belowScore + c.duplicate,
      filtered: { belowScore: c.belowScore, duplicate: c.duplicate },
      surplusCount: c.surplus,
      failedCount: c.failed,
      failures: c.failures.map((failure) => ({ ...failure })),
      rounds: c.rounds,
      stopReason,
      reachedTarget,
      resumed: this.resumed,
      steps: this.steps.map((step, s) => {
        const stats = c.steps[s] as RunCounters["steps"][number];
        return {
          name: stepName(step, s),
          calls: stats.calls,
          generated: stats.produced,
          accepted: stats.accepted,
          belowScore: stats.belowScore,
          duplicate: stats.duplicate,
          surplus: stats.surplus,
          failed: stats.failed,
          durationMs: this.durations[s] ?? 0,
        };
      }),
      timings: { ...this.timings },
    };
  }
}
