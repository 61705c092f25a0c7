import {
  deriveSeed,
  InvalidArgumentError,
  InvalidStateError,
  listSamples,
  messageOf,
  OrbiterError,
  PhaseError,
  RewardError,
  type Sample,
  type SampleInput,
  type SampleSource,
  SeededRandom,
} from "@orbiter/types";
import { NearDuplicateIndex } from "../dedup/near-duplicate-index.js";
import { throwIfAborted } from "../internal/abort.js";
import { hashString } from "../internal/hash.js";
import { mapConcurrent } from "../internal/map-concurrent.js";
import { parseSample } from "../internal/parse-sample.js";
import { CheckpointLog, type RunCounters } from "./checkpoint-log.js";
import type { StepProgress, SynthesisContext, SynthesisFailure, SynthesisStep } from "./data-synthesiser.js";
import { dedupText } from "./dedup-text.js";
import type { SynthesisConfig } from "./synthesis-config.js";
import type { SynthesisProgress, SynthesisResult, SynthesisStopReason } from "./synthesis-result.js";

/** What a run needs from the caller besides the configuration, the steps and the seed. */
export interface RunOptions {
  signal?: AbortSignal | undefined;
  onProgress?: ((progress: SynthesisProgress) => void) | undefined;
  checkpoint?: string | undefined;
  durableCheckpoint: boolean;
}

const MAX_FAILURE_RECORDS = 1000;
const NEVER_ABORTED = new AbortController().signal;
const PROGRESS_EVERY = 1024;

/** Display name of a step. */
function stepName(step: SynthesisStep, index: number): string {
  const name = step.name;
  return typeof name === "string" && name !== "" ? name : `step-${index}`;
}

/**
 * One execution of a {@link SynthesisPipeline}: screening the seed, calling the steps round after round,
 * checkpointing and resuming. Its state lives here so that the pipeline can be run again.
 */
export class PipelineRun {
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
  private readonly durableCheckpoint: boolean;

  constructor(
    private readonly config: SynthesisConfig,
    private readonly steps: ReadonlyArray<SynthesisStep>,
    private readonly seedData: SampleSource,
    options: RunOptions,
  ) {
    this.signal = options.signal;
    this.onProgress = options.onProgress;
    this.checkpointPath = options.checkpoint;
    this.durableCheckpoint = options.durableCheckpoint;
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
    const seed = await this.parseSeed();
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

  private async parseSeed(): Promise<Sample[]> {
    const inputs = await listSamples(this.seedData, "seedData");
    return inputs.map((input, i) =>
      parseSample(input, () => `seed-${i}`, { what: "seed sample", path: `seedData[${i}]` }),
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
      const message = messageOf(error);
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
      parseSample(input, () => `${name}-r${round}-${stats.produced + i}`, {
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
