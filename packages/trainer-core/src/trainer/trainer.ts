import {
  AbortedError,
  CheckpointError,
  deriveSeed,
  InvalidStateError,
  type JsonValue,
  messageOf,
  parseWith,
  SeededRandom,
} from "@orbiter/types";
import type { z } from "zod";
import { type CheckpointManifest, readCheckpointManifest } from "../checkpoint/checkpoint-manifest.js";
import {
  checkpointedMetrics,
  type PhaseMetrics,
  writeTrainerCheckpoint,
} from "../checkpoint/trainer-checkpoint.js";
import { learningRateAt } from "../config/learning-rate.js";
import { TrainConfig, type TrainConfigInput } from "../config/train-config.js";
import type { Listener } from "../internal/typed-emitter.js";
import { MetricsLogger } from "../metrics/metrics-logger.js";
import {
  type CompletedTrainMetrics,
  type StepMetrics,
  TrainMetrics,
  type TrainMetricsInput,
} from "../metrics/train-metrics.js";
import { type PhaseName, type RoutedPhases, routePhases } from "./route-phases.js";
import { checkListener, type TrainerCallbacks, type TrainerEvents } from "./trainer-events.js";
import { TrainerLifecycle } from "./trainer-lifecycle.js";
import { checkOptionKeys, type DatasetLike, lengthOf, type TrainerOptions } from "./trainer-options.js";
import type { TrainerProgress, TrainerRunResult } from "./trainer-results.js";
import { TrainerState } from "./trainer-state.js";

export type { CheckFailure } from "./run-checks.js";
export type { DatasetLike, TrainerOptions } from "./trainer-options.js";
export type { TrainerProgress, TrainerRunResult } from "./trainer-results.js";

/**
 * The training lifecycle: `validate()` runs four checks, `train()` trains, `evaluate()` evaluates, and `run()`
 * does all three, through {@link TrainerState} (`created → validating → validated → training → trained →
 * evaluating → complete`, or `error`), kept by a {@link TrainerLifecycle}.
 *
 * **Subclasses** implement `train()` and `evaluate()` as ordinary methods (they may take arguments and return
 * `{ loss, accuracy?, reward?, steps?, extra? }`) and may override the four checks. The constructor routes the
 * instance's `train` and `evaluate` into the lifecycle (see `routePhases`), so a direct `trainer.train()` obeys
 * the state machine too: an illegal call throws `InvalidStateError` and changes nothing, an exception moves to
 * `error` and is re-thrown as a `PhaseError` naming the phase (original as `cause`), and the metrics are checked
 * and completed. Write them as methods, not arrow-function fields. A subclass taking its data in
 * `train(dataset)` overrides {@link Trainer.prepareTrain}, which runs before the state check.
 *
 * Inside `train()`, call {@link Trainer.reportStep} per optimiser step (events, metrics log, cancellation),
 * `reportEpoch` per epoch and `reportEvaluation` for evaluations during training. Checkpoints:
 * {@link Trainer.saveCheckpoint} / {@link Trainer.resume} with the `onSaveCheckpoint` / `onResume` hooks. A
 * subclass config is a zod schema built on `TrainConfig` (`TrainConfig.extend({ klCoef: z.number() })`), passed
 * as the constructor's second argument.
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

  private readonly lifecycle = new TrainerLifecycle(this.constructor.name, () => this.throwIfAborted());
  private readonly counters: TrainerProgress = { step: 0, epoch: 0, totalSteps: undefined };
  private metrics: PhaseMetrics = {};
  private readonly phases: RoutedPhases;

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
    // Route direct calls of the most-derived train/evaluate through the state machine.
    this.phases = routePhases(this, new.target.name, {
      train: (args) => this.runTraining(args),
      evaluate: (args) => this.runEvaluation(args),
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
    return this.lifecycle.state;
  }

  /** The error that moved the trainer to `error` (a `ValidationFailedError` or the phase's original error). */
  get error(): unknown {
    return this.lifecycle.failure;
  }

  /** A copy of the step and epoch counters. */
  get progress(): Readonly<TrainerProgress> {
    return { ...this.counters };
  }

  /** The last metrics of the training and evaluation phases. */
  get lastMetrics(): { readonly train?: CompletedTrainMetrics; readonly evaluation?: CompletedTrainMetrics } {
    return { ...this.metrics };
  }

  /**
   * Listens to one event; returns a function that removes the listener.
   * @throws InvalidArgumentError for an event the trainer never sends (`"stepp"`) or a listener that is not a function
   */
  on<K extends keyof TrainerEvents>(event: K, listener: Listener<TrainerEvents[K]>): () => void {
    checkListener(event, listener);
    return this.lifecycle.events.on(event, listener);
  }

  /** Registers an object of callbacks (such as a `MetricsLogger` or `ProgressReporter`); returns a remover. */
  addCallbacks(callbacks: TrainerCallbacks): () => void {
    return this.lifecycle.subscribe(callbacks);
  }

  /**
   * Runs the four checks one after the other (`checkAgent`, `checkDataset`, `checkReward`, `checkConfig`):
   * `created → validating → validated`. When any returns something other than `true` or throws, the trainer
   * moves to `error` and a `ValidationFailedError` lists every failed check.
   */
  async validate(): Promise<void> {
    await this.lifecycle.validate([
      ["checkAgent", () => this.checkAgent()],
      ["checkDataset", () => this.checkDataset()],
      ["checkReward", () => this.checkReward()],
      ["checkConfig", () => this.checkConfig()],
    ]);
  }

  /**
   * Validates (unless already validated), trains and evaluates; returns both phases' metrics. It may be called
   * once, on a `created` or `validated` trainer.
   */
  async run(): Promise<TrainerRunResult> {
    if (this.lifecycle.state !== TrainerState.VALIDATED) {
      if (this.lifecycle.state !== TrainerState.CREATED) {
        throw new InvalidStateError(
          `Cannot run() while ${this.constructor.name} is "${this.lifecycle.state}": run() works once, on a new trainer`,
          { state: this.lifecycle.state },
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
    const manifest = await writeTrainerCheckpoint(
      dir,
      {
        trainer: this.constructor.name,
        state: this.lifecycle.state,
        progress: { step: this.counters.step, epoch: this.counters.epoch },
        config: this.config,
        rng: this.rng.getState(),
        metrics: this.metrics,
      },
      (temporaryDir) => this.onSaveCheckpoint(temporaryDir),
    );
    await this.lifecycle.events.emit("checkpoint", { dir, step: manifest.progress.step });
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
    if (this.lifecycle.state !== TrainerState.CREATED && this.lifecycle.state !== TrainerState.VALIDATED) {
      throw new InvalidStateError(
        `Cannot resume() while ${this.constructor.name} is "${this.lifecycle.state}": resume a new trainer`,
        { state: this.lifecycle.state },
      );
    }
    const manifest = await readCheckpointManifest(dir);
    const before = { counters: { ...this.counters }, rng: this.rng, metrics: this.metrics };
    this.counters.step = manifest.progress.step;
    this.counters.epoch = manifest.progress.epoch;
    this.rng = SeededRandom.fromState(manifest.rng);
    this.metrics = checkpointedMetrics(manifest);
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
    this.lifecycle.assertInside("reportStep()", TrainerState.TRAINING);
    const step = ++this.counters.step;
    await this.lifecycle.events.emit("step", {
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
    this.lifecycle.assertInside("reportEpoch()", TrainerState.TRAINING);
    const parsed = metrics === undefined ? undefined : this.completeMetrics(metrics, "epoch metrics");
    const epoch = this.counters.epoch++;
    await this.lifecycle.events.emit("epoch", { epoch, step: this.counters.step, metrics: parsed });
    this.throwIfAborted();
    return this.counters.epoch;
  }

  /** Reports an evaluation made during training (every `evalEvery` steps); returns the completed metrics. */
  protected async reportEvaluation(metrics: TrainMetricsInput): Promise<CompletedTrainMetrics> {
    this.lifecycle.assertInside("reportEvaluation()", TrainerState.TRAINING);
    const parsed = this.completeMetrics(metrics, "evaluation metrics");
    await this.lifecycle.events.emit("evaluation", {
      step: this.counters.step,
      metrics: parsed,
      final: false,
    });
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
    this.lifecycle.assertCan("train()", TrainerState.TRAINING);
    return this.lifecycle.runPhase("training", TrainerState.TRAINING, TrainerState.TRAINED, async () => {
      const metrics = await this.callPhase("train", args, "training metrics");
      this.metrics.train = metrics;
      return metrics;
    });
  }

  private async runEvaluation(args: unknown[]): Promise<CompletedTrainMetrics> {
    await this.prepareEvaluate(...args);
    if (this.lifecycle.state === TrainerState.TRAINING) {
      // Called from inside train(): an evaluation during training, with no state change.
      return this.reportEvaluation(await this.phases.implementation("evaluate").apply(this, args));
    }
    this.lifecycle.assertCan("evaluate()", TrainerState.EVALUATING);
    return this.lifecycle.runPhase("evaluation", TrainerState.EVALUATING, TrainerState.COMPLETE, async () => {
      const metrics = await this.callPhase("evaluate", args, "evaluation metrics");
      this.metrics.evaluation = metrics;
      await this.lifecycle.events.emit("evaluation", { step: this.counters.step, metrics, final: true });
      return metrics;
    });
  }

  /** Runs the subclass's own `train` or `evaluate` with `args` and completes the metrics it returns. */
  private async callPhase(phase: PhaseName, args: unknown[], what: string): Promise<CompletedTrainMetrics> {
    return this.completeMetrics(await this.phases.implementation(phase).apply(this, args), what);
  }

  private completeMetrics(metrics: TrainMetricsInput, what: string): CompletedTrainMetrics {
    const parsed = parseWith(TrainMetrics, metrics, { what: `${this.constructor.name} ${what}` });
    return { ...parsed, steps: parsed.steps ?? this.counters.step };
  }
}
