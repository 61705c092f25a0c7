import { join } from "node:path";
import { type CompletedTrainMetrics, Trainer } from "@orbiter/trainer-core";
import {
  CheckpointError,
  InvalidArgumentError,
  InvalidStateError,
  type JsonValue,
  type Sample,
} from "@orbiter/types";
import type { AgentRunner } from "../agent/agent-runner.js";
import { type BackendName, currentBackend, initBackend } from "../backend/init-backend.js";
import { resolveCriticMode } from "../config/critic-mode.js";
import { VeRLConfig } from "../config/verl-config.js";
import type { Policy } from "../model/policy.js";
import type { AdamOptimizer } from "../optim/adam-optimizer.js";
import { TrainerWorkers } from "../parallel/trainer-workers.js";
import { parseRewardSpecs, type RewardSpec } from "../rewards/reward-spec.js";
import type { Tokenizer } from "../tokenizer/tokenizer.js";
import { createAgentRunner } from "./agent-mode.js";
import type { VeRLDatasetInput } from "./dataset-input.js";
import { buildDefaultPolicy } from "./default-policy.js";
import type { EvaluateOptions, PolicyEvaluation } from "./evaluate-policy.js";
import { finiteMean, mean } from "./host-means.js";
import { TrainerOptimizer } from "./optimizer-start.js";
import { checkPolicyFitsConfig } from "./policy-config-check.js";
import type { TrainStepResult } from "./rollout-step.js";
import { StepControllers } from "./step-controllers.js";
import { evaluateTrainerPolicy } from "./trainer-evaluation.js";
import { TrainerSamples } from "./trainer-samples.js";
import { runTrainerStep } from "./trainer-step.js";
import { planTrainingRun } from "./training-run-plan.js";
import {
  resolvedSettings,
  resumeResolvedSettings,
  resumeVeRLModels,
  type VeRLCheckpointState,
  writeVeRLCheckpoint,
} from "./verl-trainer-checkpoint.js";
import { checkTrainerOptionKeys, trainerCallbacks, type VeRLTrainerOptions } from "./verl-trainer-options.js";

/**
 * Reinforcement learning from verifiable rewards on a TensorFlow.js policy: each step
 * samples `groupSize` responses for `batchSize` prompts, scores them with the reward functions, computes
 * advantages (GAE with a critic for PPO, group-normalised for GRPO, or RLOO / REINFORCE++), then runs
 * `ppoEpochs` passes of mini-batch Adam updates of the clipped surrogate, with a KL penalty to a frozen reference
 * model in the loss or in the reward. Metrics use verl's names and go through trainer-core's events, metrics log
 * and progress reporter; checkpoints (`saveEvery`) resume exactly.
 *
 * With no `policy`, it builds the default `TransformerPolicy` and a character tokenizer from the data, so the
 * three lines of the quick start train a real model.
 *
 * @example
 * ```ts
 * const trainer = new VeRLTrainer({
 *   config: { algorithm: VeRLAlgorithm.GRPO, epochs: 3, batchSize: 8, learningRate: 3e-4, klCoef: 0.04 },
 *   rewards: [{ name: "exact", weight: 1, fn: (output, sample) => (output === sample.output ? 1 : 0) }],
 * });
 * const metrics = await trainer.train(samples); // metrics.loss, metrics.reward, metrics.extra["reward/std"], ...
 * const evaluation = await trainer.evaluate(testSamples, { greedy: true }); // evaluation.accuracy
 * ```
 */
export class VeRLTrainer extends Trainer<VeRLDatasetInput | undefined, VeRLConfig, Policy, RewardSpec[]> {
  /** The validated reward functions. */
  readonly rewards: ReadonlyArray<RewardSpec>;
  private readonly tokenizerOption: Tokenizer | undefined;
  private readonly data: TrainerSamples;
  private reference: Policy | null | undefined;
  private readonly workers = new TrainerWorkers();
  private ownsPolicy = false;
  /** The policy was built here from random weights (not given, not resumed): `critic: "auto"` trains it shared. */
  private freshPolicy = false;
  private ownsReference = false;
  private readonly optimizer: TrainerOptimizer;
  private readonly controllers: StepControllers;
  /** The settings training resolves (`"auto"` critic and advantage scaling) as configured, before resolving. */
  private readonly configuredSettings: ReturnType<typeof resolvedSettings>;
  private backendName: BackendName | undefined;
  private skippedUpdates = 0;
  private resumedDataSize: number | undefined;
  private resumed = false;
  private readonly agentRunner: AgentRunner | undefined;
  private disposed = false;

  /**
   * @throws InvalidArgumentError naming the field when the config or a reward spec is invalid, or an option is
   * unknown (a typo such as `datset`)
   */
  constructor(options: VeRLTrainerOptions) {
    checkTrainerOptionKeys(options);
    super(
      {
        agent: options.policy,
        dataset: options.dataset,
        rewardFn: parseRewardSpecs(options.rewards),
        config: options.config ?? {},
        callbacks: trainerCallbacks(options),
        metricsLogPath: options.metricsLogPath,
        signal: options.signal,
      },
      VeRLConfig,
    );
    this.rewards = this.rewardFn as RewardSpec[];
    this.tokenizerOption = options.tokenizer;
    this.data = new TrainerSamples(options.evalSet);
    this.reference = options.reference;
    this.optimizer = new TrainerOptimizer(options.optimizerState);
    this.controllers = new StepControllers(this.config);
    this.configuredSettings = resolvedSettings(this.config);
    this.agentRunner = createAgentRunner(options, this.config, this.rewards);
    const onStep = options.onStep;
    if (onStep) this.on("step", (event) => onStep({ ...event, backend: this.backendName }));
  }

  /** The policy being trained (undefined until it is built by `validate()`/`train()` when none was given). */
  get policy(): Policy | undefined {
    return this.agent;
  }

  /** The tensor backend in use, once training or evaluation has started. */
  get backend(): BackendName | undefined {
    return this.backendName;
  }

  /** The current KL coefficient β (changes over training with `adaptiveKl`). */
  get klCoef(): number {
    return this.controllers.kl.value;
  }

  /** Mini-batch updates skipped so far because the loss or a gradient was not finite. */
  get skippedUpdateCount(): number {
    return this.skippedUpdates;
  }

  /** The policy exists or can be built (a tokenizer is given, or the data provides the characters). */
  override async checkAgent(): Promise<boolean> {
    await this.ensurePolicy();
    return this.agent !== undefined;
  }

  /** The dataset resolves to at least one sample. */
  override async checkDataset(): Promise<boolean> {
    const samples = await this.loadSamples();
    return samples.length > 0;
  }

  /** At least one reward function (guaranteed by the constructor). */
  override checkReward(): boolean {
    return this.rewards.length > 0;
  }

  /** The config is consistent with the policy: a critic when GAE is used, room for `maxNewTokens`. */
  override async checkConfig(): Promise<boolean> {
    if (!(await super.checkConfig())) return false;
    if (this.agent !== undefined) checkPolicyFitsConfig(this.agent, this.config);
    return true;
  }

  /**
   * Runs before the state check of `trainer.train(dataset)`: stores `dataset` (so that a new trainer validates on
   * it, see `checkDataset`) and validates a new trainer.
   */
  protected override async prepareTrain(dataset?: unknown): Promise<void> {
    this.assertNotDisposed("train()");
    if (dataset !== undefined) this.dataset = dataset as VeRLDatasetInput;
    if (this.state === "created") await this.validate();
  }

  /**
   * Trains for `config.epochs` passes over the data (or up to `config.maxSteps`), continuing from the step counter
   * after `resume()`. Each step: rollout → rewards → advantages → `ppoEpochs` × mini-batch updates.
   *
   * @param dataset samples, prompt strings, or an object with `toSamples()`, stored as `trainer.dataset` and
   * trained on — also when a subclass's `train` passes on another one (`super.train(subset)`); @default the
   * constructor's `dataset`
   * @returns `loss` and `reward` averaged over the last epoch's steps, and the last step's metrics in `extra`
   */
  override async train(dataset?: VeRLDatasetInput): Promise<CompletedTrainMetrics> {
    if (dataset !== undefined) this.dataset = dataset;
    const samples = await this.loadSamples();
    const policy = await this.ensureTraining();
    const { config } = this;
    const { resumed, resumedDataSize } = this;
    const { batches, total } = planTrainingRun(samples, config, {
      step: this.progress.step,
      resumed,
      resumedDataSize,
    });
    this.resumed = false;
    this.resumedDataSize = undefined;
    this.setTotalSteps(total);
    const evalSamples =
      config.evalEvery > 0 ? await this.data.evaluation(undefined, this.dataset) : undefined;
    let lastEpochLoss: number[] = [];
    let lastEpochReward: number[] = [];
    let last: TrainStepResult | undefined;
    let epoch = -1;
    while (this.progress.step < total) {
      const step = this.progress.step;
      if (batches.epochOf(step) !== epoch) {
        epoch = batches.epochOf(step);
        lastEpochLoss = [];
        lastEpochReward = [];
      }
      const prompts = batches.prompts(step);
      last = await this.trainStep(policy, prompts, step);
      lastEpochLoss.push(last.loss);
      lastEpochReward.push(last.reward);
      await this.reportStep({
        loss: last.loss,
        reward: last.reward,
        learningRate: last.metrics["actor/lr"],
        extra: last.metrics,
      });
      const finished = this.progress.step;
      if (batches.endsEpoch(step)) {
        await this.reportEpoch({ loss: finiteMean(lastEpochLoss), reward: mean(lastEpochReward) });
      }
      if (evalSamples && this.shouldEvaluate()) {
        const evaluation = await this.evaluateSamples(evalSamples, {});
        await this.reportEvaluation({
          loss: -evaluation.reward,
          reward: evaluation.reward,
          accuracy: evaluation.accuracy,
          extra: evaluation.metrics,
        });
      }
      if (config.saveEvery > 0 && finished % config.saveEvery === 0 && config.checkpointDir !== undefined) {
        await this.saveCheckpoint(join(config.checkpointDir, `step-${finished}`));
      }
    }
    const extra: Record<string, number> = { ...last?.metrics, "train/skipped_updates": this.skippedUpdates };
    return {
      loss: finiteMean(lastEpochLoss),
      reward: lastEpochReward.length > 0 ? mean(lastEpochReward) : Number.NaN,
      steps: this.progress.step,
      extra,
    };
  }

  /** Before `evaluate`'s state check: a bad argument throws here and leaves a trained trainer as it was. */
  protected override async prepareEvaluate(testSet?: unknown, options?: EvaluateOptions): Promise<void> {
    this.assertNotDisposed("evaluate()");
    await this.data.checkEvaluation(testSet, options, this.state === "training");
  }

  /**
   * Generates one response per sample (greedy by default) and reports the mean reward per reward function and the
   * accuracy. A response is **correct** when the sample has a reference `output` and the response equals it (both
   * trimmed); for samples without one (`output: ""`), when its total reward is at least `config.accuracyThreshold`.
   * `loss` is the negative mean reward.
   *
   * @param testSet samples to evaluate on @default the `evalSet` option, else the training data
   */
  override async evaluate(
    testSet?: VeRLDatasetInput,
    options: EvaluateOptions = {},
  ): Promise<CompletedTrainMetrics> {
    const samples = await this.data.checkedEvaluation(testSet, this.dataset);
    const evaluation = await this.evaluateSamples(samples, options);
    return {
      loss: -evaluation.reward,
      reward: evaluation.reward,
      accuracy: evaluation.accuracy,
      steps: this.progress.step,
      extra: evaluation.metrics,
    };
  }

  /**
   * Frees the policy and reference when the trainer built them, and the optimiser state, and ends the worker
   * threads (`config.workers`); the promise resolves once every worker has exited. The trainer is done: `validate`,
   * `train`, `evaluate`, `evaluateCurrentPolicy` and `resume` then throw `InvalidStateError`.
   */
  dispose(): Promise<void> {
    this.disposed = true;
    const workersEnded = this.workers.dispose();
    this.optimizer.dispose();
    if (this.ownsPolicy && this.agent && !this.agent.disposed) this.agent.dispose();
    if (this.ownsReference && this.reference && !this.reference.disposed) this.reference.dispose();
    return workersEnded;
  }

  /** Threads sharing each training step (1 until the first step, or when `config.workers` resolves to 1). */
  get workerCount(): number {
    return this.workers.count;
  }

  /** `tf.memory().numTensors` of each worker thread (empty when the steps run on this thread alone). */
  workerTensorCounts(): Promise<number[]> {
    return this.workers.workerTensorCounts();
  }

  protected override async onSaveCheckpoint(dir: string): Promise<JsonValue> {
    const policy = this.agent;
    if (policy === undefined)
      throw new CheckpointError("Nothing to save: the policy was never built", { path: dir });
    await writeVeRLCheckpoint(dir, { policy, optimizer: this.optimizer.current, reference: this.reference });
    return {
      ...this.controllers.state(),
      skippedUpdates: this.skippedUpdates,
      hasReference: this.reference != null,
      hasOptimizer: this.optimizer.current !== undefined,
      dataSize: this.data.loaded?.length ?? null,
      ...resolvedSettings(this.config),
    } satisfies VeRLCheckpointState;
  }

  /**
   * Takes everything a run carries besides the weights from the checkpoint alone, whatever this trainer did
   * before: Adam's moments and step counts, the controllers, the counters, the settings `"auto"` resolves.
   */
  protected override async onResume(dir: string, custom: JsonValue | null): Promise<void> {
    const state = (custom ?? {}) as VeRLCheckpointState;
    await this.ensureBackend();
    const { agent: policy, ownsPolicy, reference, ownsReference } = this;
    const resumed = await resumeVeRLModels(dir, state, { policy, ownsPolicy, reference, ownsReference });
    this.agent = resumed.policy;
    this.ownsPolicy = resumed.ownsPolicy;
    this.reference = resumed.reference;
    this.ownsReference = resumed.ownsReference;
    // The workers hold replicas of the objects replaced above: the next step starts new ones.
    await this.workers.dispose();
    this.optimizer.restart(resumed.optimizerState);
    // The resumed weights are trained ones: "auto" keeps the mode the run trained with, else detaches.
    this.freshPolicy = false;
    resumeResolvedSettings(this.config, this.configuredSettings, state);
    this.controllers.restore(state);
    this.skippedUpdates = state.skippedUpdates ?? 0;
    this.resumedDataSize = typeof state.dataSize === "number" ? state.dataSize : undefined;
    this.resumed = true;
  }

  private async trainStep(policy: Policy, prompts: Sample[], step: number): Promise<TrainStepResult> {
    const result = await runTrainerStep({
      config: this.config,
      policy,
      reference: this.reference ?? null,
      optimizer: this.optimizer.current as AdamOptimizer,
      rewards: this.rewards,
      workers: this.workers,
      backend: this.backendName,
      agentRunner: this.agentRunner,
      signal: this.signal,
      prompts,
      step,
      klCoef: this.controllers.kl.value,
      learningRate: this.controllers.learningRateAt(step, this.progress.totalSteps),
    });
    this.controllers.update(result);
    this.skippedUpdates += result.skipped;
    return result;
  }

  /**
   * Evaluates the current policy on `testSet` with the trainer's rewards and sampling settings, outside the
   * lifecycle: it works in any state and changes none (`evaluate()` is only allowed after training). Use it for
   * a baseline before `train()`. With no `policy` given, the default one is built from the data first.
   *
   * @example
   * ```ts
   * const before = await trainer.evaluateCurrentPolicy(testSet, { greedy: true });
   * await trainer.train(trainSet);
   * const after = await trainer.evaluate(testSet, { greedy: true });
   * console.log(before.accuracy, "->", after.accuracy);
   * ```
   */
  async evaluateCurrentPolicy(
    testSet?: VeRLDatasetInput,
    options: EvaluateOptions = {},
  ): Promise<PolicyEvaluation> {
    this.assertNotDisposed("evaluateCurrentPolicy()");
    return this.evaluateSamples(await this.data.evaluation(testSet, this.dataset), options);
  }

  /** Runs the four checks (see {@link Trainer.validate}); refused after `dispose()`. */
  override async validate(): Promise<void> {
    this.assertNotDisposed("validate()");
    return super.validate();
  }

  /** Restores a checkpoint (see {@link Trainer.resume}); refused after `dispose()`. */
  override async resume(dir: string): ReturnType<Trainer["resume"]> {
    this.assertNotDisposed("resume()");
    return super.resume(dir);
  }

  /** Before anything starts: a disposed trainer has freed what it would use, and must not rebuild it quietly. */
  private assertNotDisposed(operation: string): void {
    if (!this.disposed) return;
    throw new InvalidStateError(
      `Cannot call ${operation} after dispose(): the trainer freed its models, optimiser and workers; build a new VeRLTrainer`,
      { state: this.state },
    );
  }

  private async evaluateSamples(samples: Sample[], options: EvaluateOptions): Promise<PolicyEvaluation> {
    const { config, rewards, agentRunner, workers } = this;
    const policy = await this.ensurePolicy();
    return evaluateTrainerPolicy({ policy, samples, options, config, rewards, agentRunner, workers });
  }

  private loadSamples(): Promise<Sample[]> {
    return this.data.training(this.dataset);
  }

  private async ensureBackend(): Promise<void> {
    // A policy given by the caller already lives on a backend: keep it unless one is named explicitly.
    const keep = this.agent !== undefined && this.config.backend === "auto";
    this.backendName ??= keep ? currentBackend() : await initBackend({ backend: this.config.backend });
  }

  private async ensurePolicy(): Promise<Policy | undefined> {
    if (this.agent !== undefined) {
      await this.ensureBackend();
      return this.agent;
    }
    if (this.tokenizerOption === undefined && this.dataset === undefined) return undefined;
    await this.ensureBackend();
    const samples = this.dataset === undefined ? [] : await this.loadSamples();
    const extra = await this.data.evalSetSamples();
    this.agent = buildDefaultPolicy({
      config: this.config,
      samples,
      extra,
      tokenizer: this.tokenizerOption,
      agentContextLength: this.agentRunner?.options.contextLength,
    });
    this.ownsPolicy = true;
    this.freshPolicy = true;
    return this.agent;
  }

  private async ensureTraining(): Promise<Policy> {
    const policy = await this.ensurePolicy();
    if (policy === undefined) {
      throw new InvalidArgumentError("No policy: pass one, a tokenizer, or training data", {
        field: "policy",
      });
    }
    this.config.critic = resolveCriticMode(this.config.critic, this.freshPolicy);
    const needsReference = this.config.klCoef > 0 || this.config.adaptiveKl !== null;
    if (this.reference === undefined || (this.reference === null && needsReference)) {
      this.reference = needsReference ? policy.clone({ frozen: true }) : null;
      this.ownsReference = this.reference !== null;
    }
    this.optimizer.start(policy, this.config);
    return policy;
  }
}
