import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  AbortedError,
  CheckpointError,
  deriveSeed,
  InvalidArgumentError,
  InvalidStateError,
  JsonValue,
  messageOf,
  PhaseError,
  parseWith,
  SeededRandom,
  ValidationFailedError,
} from "@orbiter/types";
import type { z } from "zod";
import {
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  type CheckpointManifest,
  readCheckpointManifest,
  TRAINER_STATE_FILE,
} from "../checkpoint/checkpoint-manifest.js";
import { decodeMetrics, encodeMetrics } from "../checkpoint/checkpoint-metrics.js";
import { writeDirectoryAtomic } from "../checkpoint/write-directory-atomic.js";
import { learningRateAt } from "../config/learning-rate.js";
import { TrainConfig, type TrainConfigInput } from "../config/train-config.js";
import { type Listener, TypedEmitter } from "../internal/typed-emitter.js";
import { MetricsLogger } from "../metrics/metrics-logger.js";
import {
  type CompletedTrainMetrics,
  type StepMetrics,
  TrainMetrics,
  type TrainMetricsInput,
} from "../metrics/train-metrics.js";
import type { TrainerCallbacks, TrainerEvents } from "./trainer-events.js";
import { canTransition, TrainerState } from "./trainer-state.js";

/**
 * The dataset of a `Trainer` written without type arguments: anything with a `length` that can be iterated (an
 * array, a `TrajectoryDataset`, ...), so `this.dataset.length` type-checks in such a subclass.
 */
export interface DatasetLike extends Iterable<unknown> {
  /** Number of items. */
  readonly length: number;
}

/** Options every {@link Trainer} constructor accepts; all are optional. */
export interface TrainerOptions<
  TDataset = DatasetLike,
  TAgent = unknown,
  TRewardFn = unknown,
  TConfigInput = unknown,
> {
  /** The agent being trained (checked by `checkAgent`). */
  agent?: TAgent | undefined;
  /** The training data (checked by `checkDataset`). */
  dataset?: TDataset | undefined;
  /** The reward function (checked by `checkReward`). */
  rewardFn?: TRewardFn | undefined;
  /** Hyper-parameters, parsed with the trainer's config schema. @default {} (every default) */
  config?: TConfigInput | undefined;
  /** Callback objects that receive the trainer's events. @default [] */
  callbacks?: ReadonlyArray<TrainerCallbacks> | undefined;
  /** Write one JSON line per step (and per epoch and evaluation) to this file. @default undefined (no log) */
  metricsLogPath?: string | undefined;
  /** Cancels training: the next `reportStep` (or `throwIfAborted`) throws. @default undefined */
  signal?: AbortSignal | undefined;
}

/** What {@link Trainer.run} returns. */
export interface TrainerRunResult {
  /** Metrics of the training phase. */
  train: CompletedTrainMetrics;
  /** Metrics of the evaluation phase. */
  evaluation: CompletedTrainMetrics;
}

/** Counters of a trainer's progress, saved in checkpoints. */
export interface TrainerProgress {
  /** Optimiser steps taken (cumulative across `train()` calls and resumes). */
  step: number;
  /** Epochs finished. */
  epoch: number;
  /** Steps the run will take in total, when the subclass said so with `setTotalSteps`. */
  totalSteps: number | undefined;
}

/** One failed pre-training check, as listed by `ValidationFailedError.failures`. */
export interface CheckFailure {
  /** Name of the check (`checkAgent`, `checkDataset`, `checkReward`, `checkConfig`). */
  check: string;
  /** `"returned false"`, `"returned string instead of a boolean"` or `"threw: <message>"`. */
  reason: string;
  /** The error the check threw, if it threw. */
  error?: unknown;
}

type PhaseMethod = (...args: unknown[]) => Promise<TrainMetricsInput>;

/** The keys of {@link TrainerOptions}: anything else given to the constructor is a mistake (a typo). */
const TRAINER_OPTION_KEYS = {
  agent: true,
  dataset: true,
  rewardFn: true,
  config: true,
  callbacks: true,
  metricsLogPath: true,
  signal: true,
} as const satisfies Record<keyof TrainerOptions, true>;

/** Refuses an options value that is not an object, or has a key no trainer option is called. */
function checkOptionKeys(options: unknown, trainer: string): void {
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw new InvalidArgumentError(`${trainer} options must be an object`, {
      field: "options",
      value: options,
    });
  }
  for (const key of Object.keys(options)) {
    if (!Object.hasOwn(TRAINER_OPTION_KEYS, key)) {
      const known = Object.keys(TRAINER_OPTION_KEYS)
        .map((name) => `"${name}"`)
        .join(", ");
      throw new InvalidArgumentError(`Unknown ${trainer} option "${key}" (the options are ${known})`, {
        field: key,
        value: (options as Record<string, unknown>)[key],
      });
    }
  }
}

const wrappers = new WeakSet<object>();

function lengthOf(value: unknown): number | undefined {
  if (typeof value === "string" || Array.isArray(value)) return value.length;
  if (value !== null && typeof value === "object") {
    const record = value as { length?: unknown; size?: unknown };
    if (typeof record.length === "number") return record.length;
    if (typeof record.size === "number") return record.size;
  }
  return undefined;
}

/**
 * The training lifecycle: `validate()` runs four checks, `train()` trains, `evaluate()`
 * evaluates, and `run()` does all three, moving through {@link TrainerState}:
 * `created → validating → validated → training → trained → evaluating → complete`, or `error`.
 *
 * **How subclasses plug in.** Implement `train()` and `evaluate()` as ordinary methods, as in the training guide (they may
 * take arguments and return `{ loss, accuracy?, reward?, steps?, extra? }`), and override any of the four checks.
 * The base constructor wraps the subclass's `train` and `evaluate` on the instance, so the state machine holds
 * even when a user calls `trainer.train()` directly: an illegal call throws `InvalidStateError` without changing
 * the state, an exception inside a phase moves to `error` and is re-thrown as a `PhaseError` naming the phase with
 * the original as `cause`, and the returned metrics are checked and completed. Write them as methods, not as
 * arrow-function fields (a field assigned after the constructor would bypass the wrapper). A subclass that takes
 * its data in `train(dataset)` overrides {@link Trainer.prepareTrain}, which runs before the state check and may
 * call `validate()` itself.
 *
 * Inside `train()`, call {@link Trainer.reportStep} once per optimiser step (it feeds the events, the metrics log
 * and cancellation), `reportEpoch` per epoch and `reportEvaluation` for evaluations made during training.
 * Checkpoints: {@link Trainer.saveCheckpoint} / {@link Trainer.resume} plus the `onSaveCheckpoint` /
 * `onResume` hooks for the subclass's own files.
 *
 * A subclass with its own config passes its zod schema (whose output has the `TrainConfig` fields, e.g.
 * `TrainConfig.extend({ klCoef: z.number() })`) as the constructor's second argument.
 *
 * @typeParam TDataset type of `dataset` (default {@link DatasetLike}); it is `undefined` at run time when the
 * constructor got none, so a subclass that takes its data later declares it as `MyData | undefined`
 * @typeParam TConfig parsed config type (has every `TrainConfig` field)
 * @typeParam TAgent type of `agent`
 * @typeParam TRewardFn type of `rewardFn`
 * @example
 * ```ts
 * class MyTrainer extends Trainer<string[]> {
 *   async train() {
 *     for (const _ of this.dataset ?? []) await this.reportStep({ loss: 0.5 });
 *     return { loss: 0.5, accuracy: 0.85 };
 *   }
 *   async evaluate() { return { loss: 0.3, accuracy: 0.9 }; }
 * }
 * const trainer = new MyTrainer({ agent: {}, dataset: ["a", "b"], rewardFn: () => 1, config: { epochs: 1 } });
 * const { train, evaluation } = await trainer.run();
 * ```
 */
export abstract class Trainer<
  TDataset = DatasetLike,
  TConfig extends TrainConfig = TrainConfig,
  TAgent = unknown,
  TRewardFn = unknown,
> {
  /** The agent being trained. */
  agent: TAgent | undefined;
  /** The training data (`undefined` when none was given; the default `checkDataset` then fails). */
  dataset: TDataset;
  /** The reward function. */
  rewardFn: TRewardFn | undefined;
  /** The parsed config (every default filled in). */
  readonly config: TConfig;
  /** Seeded random number generator for the subclass's choices (seeded from `config.seed`, saved in checkpoints). */
  protected rng: SeededRandom;
  /** The cancellation signal given to the constructor. */
  protected readonly signal: AbortSignal | undefined;
  /** The metrics log, when `metricsLogPath` was given. */
  readonly metricsLogger: MetricsLogger | undefined;

  private currentState: TrainerState = TrainerState.CREATED;
  private readonly events = new TypedEmitter<TrainerEvents>();
  private readonly counters: TrainerProgress = { step: 0, epoch: 0, totalSteps: undefined };
  private failure: unknown;
  private metrics: { train?: CompletedTrainMetrics; evaluation?: CompletedTrainMetrics } = {};
  private rawTrain: PhaseMethod;
  private rawEvaluate: PhaseMethod;

  /**
   * @param options agent, dataset, reward function, config, callbacks, metrics log path, abort signal
   * @throws InvalidArgumentError naming the field (`config.epochs`) when the config is invalid, or the unknown
   * option (a typo such as `datset`)
   */
  constructor(options?: TrainerOptions<TDataset, TAgent, TRewardFn, TrainConfigInput>);
  /**
   * @param options agent, dataset, reward function, config, callbacks, metrics log path, abort signal
   * @param configSchema the subclass's config schema; its output must have every `TrainConfig` field
   */
  constructor(
    options: TrainerOptions<TDataset, TAgent, TRewardFn, unknown>,
    configSchema: z.ZodType<TConfig>,
  );
  constructor(
    options: TrainerOptions<TDataset, TAgent, TRewardFn, unknown> = {},
    configSchema: z.ZodType<TConfig> = TrainConfig as unknown as z.ZodType<TConfig>,
  ) {
    checkOptionKeys(options, new.target.name);
    this.config = parseWith(configSchema, options.config ?? {}, {
      what: `${new.target.name} config`,
      path: "config",
    });
    this.agent = options.agent;
    this.dataset = options.dataset as TDataset;
    this.rewardFn = options.rewardFn;
    this.signal = options.signal;
    this.rng = new SeededRandom(deriveSeed(this.config.seed, "trainer"));
    for (const callbacks of options.callbacks ?? []) this.addCallbacks(callbacks);
    if (options.metricsLogPath !== undefined) {
      this.metricsLogger = new MetricsLogger({ path: options.metricsLogPath });
      this.addCallbacks(this.metricsLogger);
    } else {
      this.metricsLogger = undefined;
    }
    // Wrap the most-derived train/evaluate so that direct calls go through the state machine.
    for (const method of ["train", "evaluate"] as const) {
      if (typeof this[method] !== "function") {
        throw new InvalidArgumentError(`${new.target.name} must implement ${method}()`, { field: method });
      }
    }
    this.rawTrain = this.train as PhaseMethod;
    this.rawEvaluate = this.evaluate as PhaseMethod;
    const train = (...args: unknown[]) => this.runTraining(args);
    const evaluate = (...args: unknown[]) => this.runEvaluation(args);
    wrappers.add(train);
    wrappers.add(evaluate);
    Object.defineProperty(this, "train", {
      value: train,
      writable: true,
      configurable: true,
      enumerable: false,
    });
    Object.defineProperty(this, "evaluate", {
      value: evaluate,
      writable: true,
      configurable: true,
      enumerable: false,
    });
  }

  /** Trains; return the phase's metrics. Runs inside the `training` state (see the class comment). */
  abstract train(...args: unknown[]): Promise<TrainMetricsInput>;

  /**
   * Evaluates the trained model; return its metrics. Runs inside the `evaluating` state. Called from inside
   * `train()` (every `evalEvery` steps, say), it runs without a state change and is reported as an evaluation
   * during training.
   */
  abstract evaluate(...args: unknown[]): Promise<TrainMetricsInput>;

  /** Is the agent usable? @default true when `agent` is set */
  checkAgent(): boolean | Promise<boolean> {
    return this.agent != null;
  }

  /** Is the dataset usable? @default true when `dataset` is set and, if it has a `length` or `size`, non-empty */
  checkDataset(): boolean | Promise<boolean> {
    if (this.dataset == null) return false;
    const length = lengthOf(this.dataset);
    return length === undefined || length > 0;
  }

  /** Is the reward function usable? @default true when `rewardFn` is set */
  checkReward(): boolean | Promise<boolean> {
    return this.rewardFn != null;
  }

  /** Is the config consistent? @default true when `epochs > 0` and `minLearningRate <= learningRate` */
  checkConfig(): boolean | Promise<boolean> {
    return this.config.epochs > 0 && this.config.minLearningRate <= this.config.learningRate;
  }

  /** The current lifecycle state. */
  get state(): TrainerState {
    return this.currentState;
  }

  /** The error that moved the trainer to `error` (a `ValidationFailedError` or the phase's original error). */
  get error(): unknown {
    return this.failure;
  }

  /** A copy of the step and epoch counters. */
  get progress(): Readonly<TrainerProgress> {
    return { ...this.counters };
  }

  /** The last metrics of the training and evaluation phases. */
  get lastMetrics(): { readonly train?: CompletedTrainMetrics; readonly evaluation?: CompletedTrainMetrics } {
    return { ...this.metrics };
  }

  /** Listens to one event; returns a function that removes the listener. */
  on<K extends keyof TrainerEvents>(event: K, listener: Listener<TrainerEvents[K]>): () => void {
    return this.events.on(event, listener);
  }

  /** Registers an object of callbacks (such as a `MetricsLogger` or `ProgressReporter`); returns a remover. */
  addCallbacks(callbacks: TrainerCallbacks): () => void {
    const removers: Array<() => void> = [];
    if (callbacks.onStateChange) removers.push(this.on("stateChange", (e) => callbacks.onStateChange?.(e)));
    if (callbacks.onStep) removers.push(this.on("step", (e) => callbacks.onStep?.(e)));
    if (callbacks.onEpoch) removers.push(this.on("epoch", (e) => callbacks.onEpoch?.(e)));
    if (callbacks.onEvaluation) removers.push(this.on("evaluation", (e) => callbacks.onEvaluation?.(e)));
    if (callbacks.onCheckpoint) removers.push(this.on("checkpoint", (e) => callbacks.onCheckpoint?.(e)));
    return () => {
      for (const remove of removers) remove();
    };
  }

  /**
   * Runs the four checks one after the other (`checkAgent`, `checkDataset`, `checkReward`, `checkConfig`):
   * `created → validating → validated`. When any returns something other than `true` or throws, the trainer
   * moves to `error` and a `ValidationFailedError` lists every failed check.
   */
  async validate(): Promise<void> {
    this.assertCan("validate()", TrainerState.VALIDATING);
    try {
      await this.transition(TrainerState.VALIDATING);
    } catch (error) {
      throw await this.fail("validation", error);
    }
    const checks: Array<[string, () => unknown]> = [
      ["checkAgent", () => this.checkAgent()],
      ["checkDataset", () => this.checkDataset()],
      ["checkReward", () => this.checkReward()],
      ["checkConfig", () => this.checkConfig()],
    ];
    const failures: CheckFailure[] = [];
    for (const [check, run] of checks) {
      try {
        const result = await run();
        if (result === false) failures.push({ check, reason: "returned false" });
        else if (result !== true)
          failures.push({ check, reason: `returned ${typeof result} instead of a boolean` });
      } catch (error) {
        failures.push({ check, reason: `threw: ${messageOf(error)}`, error });
      }
    }
    if (failures.length > 0) {
      const list = failures.map((failure) => `${failure.check} ${failure.reason}`).join("; ");
      const error = new ValidationFailedError(
        `${this.constructor.name} validation failed: ${list}`,
        failures,
      );
      throw await this.fail("validation", error);
    }
    try {
      await this.transition(TrainerState.VALIDATED);
    } catch (error) {
      throw await this.fail("validation", error);
    }
  }

  /**
   * Validates (unless already validated), trains and evaluates; returns both phases' metrics. It may be called
   * once, on a `created` or `validated` trainer.
   */
  async run(): Promise<TrainerRunResult> {
    if (this.currentState !== TrainerState.VALIDATED) {
      if (this.currentState !== TrainerState.CREATED) {
        throw new InvalidStateError(
          `Cannot run() while ${this.constructor.name} is "${this.currentState}": run() works once, on a new trainer`,
          { state: this.currentState },
        );
      }
      await this.validate();
    }
    const train = await this.runTraining([]);
    const evaluation = await this.runEvaluation([]);
    return { train, evaluation };
  }

  /**
   * Writes a checkpoint folder atomically (a temporary sibling, fsync, rename): `trainer-state.json` (progress,
   * config, RNG state, last metrics and the JSON returned by `onSaveCheckpoint`) plus whatever the subclass writes
   * in `onSaveCheckpoint`. Allowed in any state, typically from inside `train()`.
   *
   * @returns the manifest written
   * @throws CheckpointError when writing fails (the previous checkpoint at `dir`, if any, is kept)
   */
  async saveCheckpoint(dir: string): Promise<CheckpointManifest> {
    const manifest = await writeDirectoryAtomic(dir, async (temporaryDir) => {
      const custom = (await this.onSaveCheckpoint(temporaryDir)) ?? null;
      const checked = JsonValue.nullable().safeParse(custom);
      if (!checked.success) {
        throw new CheckpointError("onSaveCheckpoint must return JSON (finite numbers, no functions)", {
          path: dir,
          cause: checked.error,
        });
      }
      const written: CheckpointManifest = {
        format: CHECKPOINT_FORMAT,
        version: CHECKPOINT_VERSION,
        trainer: this.constructor.name,
        savedAt: new Date().toISOString(),
        state: this.currentState,
        progress: { step: this.counters.step, epoch: this.counters.epoch },
        config: JSON.parse(JSON.stringify(this.config)) as Record<string, unknown>,
        rng: this.rng.getState(),
        metrics: {
          ...(this.metrics.train ? { train: encodeMetrics(this.metrics.train) } : {}),
          ...(this.metrics.evaluation ? { evaluation: encodeMetrics(this.metrics.evaluation) } : {}),
        },
        custom: checked.data,
      };
      await writeFile(join(temporaryDir, TRAINER_STATE_FILE), `${JSON.stringify(written, null, 2)}\n`);
      return written;
    });
    await this.events.emit("checkpoint", { dir, step: manifest.progress.step });
    return manifest;
  }

  /**
   * Restores progress from a checkpoint folder written by {@link Trainer.saveCheckpoint}: the step and epoch
   * counters, the RNG state and last metrics, then the subclass's `onResume`. The lifecycle state is not
   * restored: a resumed trainer still validates, and its `train()` continues from `progress.step`. Allowed on a
   * `created` or `validated` trainer.
   *
   * @returns the checkpoint's manifest
   * @throws CheckpointError when the folder is not a readable checkpoint or `onResume` fails
   */
  async resume(dir: string): Promise<CheckpointManifest> {
    if (this.currentState !== TrainerState.CREATED && this.currentState !== TrainerState.VALIDATED) {
      throw new InvalidStateError(
        `Cannot resume() while ${this.constructor.name} is "${this.currentState}": resume a new trainer`,
        { state: this.currentState },
      );
    }
    const manifest = await readCheckpointManifest(dir);
    const before = { counters: { ...this.counters }, rng: this.rng, metrics: this.metrics };
    this.counters.step = manifest.progress.step;
    this.counters.epoch = manifest.progress.epoch;
    this.rng = SeededRandom.fromState(manifest.rng);
    this.metrics = {};
    for (const phase of ["train", "evaluation"] as const) {
      const parsed = TrainMetrics.safeParse(decodeMetrics(manifest.metrics[phase]));
      if (parsed.success) this.metrics[phase] = { ...parsed.data, steps: parsed.data.steps ?? 0 };
    }
    try {
      await this.onResume(dir, manifest.custom, manifest);
    } catch (error) {
      Object.assign(this.counters, before.counters);
      this.rng = before.rng;
      this.metrics = before.metrics;
      if (CheckpointError.isInstance(error)) throw error;
      throw new CheckpointError(`Could not resume from ${dir}: ${messageOf(error)}`, {
        path: dir,
        cause: error,
      });
    }
    return manifest;
  }

  /**
   * Hook: write the subclass's files (weights, optimiser state, ...) into `dir`, a fresh folder that becomes the
   * checkpoint once everything is flushed, and return any JSON to keep in the manifest's `custom` field.
   * @default writes nothing
   */
  protected onSaveCheckpoint(_dir: string): JsonValue | undefined | Promise<JsonValue | undefined> {
    return undefined;
  }

  /**
   * Hook: read the subclass's files back from `dir`; `custom` is what `onSaveCheckpoint` returned. The base
   * counters and RNG are already restored when it runs.
   * @default does nothing
   */
  protected onResume(
    _dir: string,
    _custom: JsonValue | null,
    _manifest: CheckpointManifest,
  ): void | Promise<void> {}

  /**
   * Hook run by `train(...args)` before its state check, with the same arguments. A subclass that takes its data
   * in `train(dataset)` stores it here and may validate: `if (this.state === "created") await this.validate()`.
   * @default does nothing
   */
  protected prepareTrain(..._args: unknown[]): void | Promise<void> {}

  /** Hook run by `evaluate(...args)` before its state check, with the same arguments. @default does nothing */
  protected prepareEvaluate(..._args: unknown[]): void | Promise<void> {}

  /**
   * Reports one finished optimiser step from inside `train()`: increments the step counter, sends the `step`
   * event (metrics log, progress bar, callbacks; awaited) and throws `AbortedError` if the signal was aborted.
   *
   * @returns the 1-based number of the step
   */
  protected async reportStep(metrics: StepMetrics): Promise<number> {
    this.assertInside("reportStep()", TrainerState.TRAINING);
    const step = ++this.counters.step;
    await this.events.emit("step", {
      step,
      epoch: this.counters.epoch,
      totalSteps: this.counters.totalSteps,
      metrics,
    });
    this.throwIfAborted();
    return step;
  }

  /** Reports the end of an epoch from inside `train()`; returns the number of epochs finished. */
  protected async reportEpoch(metrics?: TrainMetricsInput): Promise<number> {
    this.assertInside("reportEpoch()", TrainerState.TRAINING);
    const parsed = metrics === undefined ? undefined : this.completeMetrics(metrics, "epoch metrics");
    const epoch = this.counters.epoch++;
    await this.events.emit("epoch", { epoch, step: this.counters.step, metrics: parsed });
    this.throwIfAborted();
    return this.counters.epoch;
  }

  /** Reports an evaluation made during training (every `evalEvery` steps); returns the completed metrics. */
  protected async reportEvaluation(metrics: TrainMetricsInput): Promise<CompletedTrainMetrics> {
    this.assertInside("reportEvaluation()", TrainerState.TRAINING);
    const parsed = this.completeMetrics(metrics, "evaluation metrics");
    await this.events.emit("evaluation", { step: this.counters.step, metrics: parsed, final: false });
    return parsed;
  }

  /** Tells progress reporters how many steps the whole run takes (counting steps already taken). */
  protected setTotalSteps(totalSteps: number | undefined): void {
    this.counters.totalSteps = totalSteps;
  }

  /** True once the step counter has reached `config.maxSteps`. */
  protected reachedMaxSteps(): boolean {
    return this.config.maxSteps !== undefined && this.counters.step >= this.config.maxSteps;
  }

  /** True when an evaluation is due after the current step (`evalEvery > 0` and the step is a multiple of it). */
  protected shouldEvaluate(): boolean {
    const { evalEvery } = this.config;
    return evalEvery > 0 && this.counters.step > 0 && this.counters.step % evalEvery === 0;
  }

  /** Learning rate for the next step (0-based `step`, default the step counter) under `config.lrSchedule`. */
  protected learningRate(step: number = this.counters.step): number {
    return learningRateAt(step, this.config, this.counters.totalSteps ?? this.config.maxSteps);
  }

  /** Throws `AbortedError` (with the signal's reason as `cause`) when the constructor's signal was aborted. */
  protected throwIfAborted(): void {
    if (this.signal?.aborted) {
      throw new AbortedError(`${this.constructor.name} was aborted`, { cause: this.signal.reason });
    }
  }

  private async runTraining(args: unknown[]): Promise<CompletedTrainMetrics> {
    await this.prepareTrain(...args);
    this.assertCan("train()", TrainerState.TRAINING);
    return this.runPhase("training", TrainerState.TRAINING, TrainerState.TRAINED, async () => {
      const metrics = this.completeMetrics(
        await this.currentRaw("train").apply(this, args),
        "training metrics",
      );
      this.metrics.train = metrics;
      return metrics;
    });
  }

  private async runEvaluation(args: unknown[]): Promise<CompletedTrainMetrics> {
    await this.prepareEvaluate(...args);
    if (this.currentState === TrainerState.TRAINING) {
      // Called from inside train(): an evaluation during training, with no state change.
      return this.reportEvaluation(await this.currentRaw("evaluate").apply(this, args));
    }
    this.assertCan("evaluate()", TrainerState.EVALUATING);
    return this.runPhase("evaluation", TrainerState.EVALUATING, TrainerState.COMPLETE, async () => {
      const metrics = this.completeMetrics(
        await this.currentRaw("evaluate").apply(this, args),
        "evaluation metrics",
      );
      this.metrics.evaluation = metrics;
      await this.events.emit("evaluation", { step: this.counters.step, metrics, final: true });
      return metrics;
    });
  }

  /** The subclass's method, even if a field assigned after the constructor replaced the wrapper. */
  private currentRaw(name: "train" | "evaluate"): PhaseMethod {
    const current = this[name] as PhaseMethod;
    if (!wrappers.has(current)) return current;
    return name === "train" ? this.rawTrain : this.rawEvaluate;
  }

  private async runPhase<T>(
    phase: string,
    active: TrainerState,
    done: TrainerState,
    body: () => Promise<T>,
  ): Promise<T> {
    try {
      await this.transition(active);
      this.throwIfAborted();
      const result = await body();
      await this.transition(done);
      return result;
    } catch (error) {
      throw await this.fail(phase, error);
    }
  }

  private completeMetrics(metrics: TrainMetricsInput, what: string): CompletedTrainMetrics {
    const parsed = parseWith(TrainMetrics, metrics, { what: `${this.constructor.name} ${what}` });
    return { ...parsed, steps: parsed.steps ?? this.counters.step };
  }

  private assertCan(action: string, target: TrainerState): void {
    const state = this.currentState;
    if (canTransition(state, target)) return;
    let hint = "";
    if (state === TrainerState.CREATED && target === TrainerState.TRAINING)
      hint = ": call validate() first, or run()";
    else if (state === TrainerState.ERROR)
      hint = ": it failed earlier (see trainer.error); create a new trainer";
    else if (target === TrainerState.EVALUATING && state !== TrainerState.EVALUATING)
      hint = ": train it first";
    else if (state === TrainerState.TRAINING || state === TrainerState.EVALUATING || state === "validating") {
      hint = ": another phase is running";
    }
    throw new InvalidStateError(`Cannot ${action} while ${this.constructor.name} is "${state}"${hint}`, {
      state,
    });
  }

  private assertInside(action: string, state: TrainerState): void {
    if (this.currentState !== state) {
      throw new InvalidStateError(
        `${action} may only be called while ${this.constructor.name} is "${state}", not "${this.currentState}"`,
        { state: this.currentState },
      );
    }
  }

  private async transition(to: TrainerState): Promise<void> {
    const from = this.currentState;
    this.currentState = to;
    await this.events.emit("stateChange", { from, to });
  }

  /** Moves to `error` and returns the error to throw: validation failures as they are, others in a PhaseError. */
  private async fail(phase: string, error: unknown): Promise<Error> {
    const from = this.currentState;
    this.currentState = TrainerState.ERROR;
    this.failure = error;
    try {
      await this.events.emit("stateChange", { from, to: TrainerState.ERROR, error });
    } catch {
      // A listener of the error transition must not hide the failure being reported.
    }
    if (ValidationFailedError.isInstance(error)) return error;
    return new PhaseError(phase, `${this.constructor.name} failed during ${phase}: ${messageOf(error)}`, {
      cause: error,
    });
  }
}
