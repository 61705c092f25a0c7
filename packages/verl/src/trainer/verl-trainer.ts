import { join } from "node:path";
import {
  type CompletedTrainMetrics,
  ProgressReporter,
  type ProgressReporterOptions,
  type StepEvent,
  Trainer,
  type TrainerCallbacks,
} from "@orbiter/trainer-core";
import {
  CheckpointError,
  deriveSeed,
  InvalidArgumentError,
  type JsonValue,
  parseWith,
  type Sample,
  SeededRandom,
} from "@orbiter/types";
import { AgentOptions, type AgentOptionsInput } from "../agent/agent-options.js";
import type { AgentFunction } from "../agent/agent-rollout.js";
import { AgentRunner, type ServeModel } from "../agent/agent-runner.js";
import { serveWithGateway } from "../agent/serve-with-gateway.js";
import {
  AdaptiveKlController,
  FixedKlController,
  type KlController,
} from "../algorithms/adaptive-kl-controller.js";
import { softOverlongPenalty } from "../algorithms/overlong-penalty.js";
import { type BackendName, currentBackend, initBackend } from "../backend/init-backend.js";
import { chatTokenizer } from "../chat/chat-template.js";
import { loadCheckpoint, saveCheckpoint } from "../checkpoint/checkpoint.js";
import { VeRLConfig, type VeRLConfigInput } from "../config/verl-config.js";
import type { Policy } from "../model/policy.js";
import { TransformerPolicy } from "../model/transformer-policy.js";
import { AdamOptimizer, type AdamState } from "../optim/adam-optimizer.js";
import { TrainerWorkers } from "../parallel/trainer-workers.js";
import { normalizeThenSum } from "../rewards/normalize-then-sum.js";
import { rewardMetrics } from "../rewards/reward-metrics.js";
import { parseRewardSpecs, type RewardSpec, type RewardSpecInput } from "../rewards/reward-spec.js";
import { scoreRewards } from "../rewards/score-rewards.js";
import { CharTokenizer } from "../tokenizer/char-tokenizer.js";
import type { Tokenizer } from "../tokenizer/tokenizer.js";
import { resolveSamples, type VeRLDatasetInput } from "./dataset-input.js";
import { type EvaluateOptions, evaluatePolicy, type PolicyEvaluation } from "./evaluate-policy.js";
import { runPolicyUpdate } from "./policy-update.js";
import { encodePromptsForRollout } from "./prompt-encoding.js";
import { buildRolloutBatch } from "./rollout-batch.js";

/** Payload of the `onStep` callback: trainer-core's step event plus the backend that ran it. */
export interface VeRLStepEvent extends StepEvent {
  /** The tensor backend in use. */
  backend: BackendName | undefined;
}

/** Options of {@link VeRLTrainer}. */
export interface VeRLTrainerOptions {
  /** Hyper-parameters; see {@link VeRLConfig}. @default {} (PPO with every default) */
  config?: VeRLConfigInput;
  /** The reward functions (at least one). */
  rewards: ReadonlyArray<RewardSpecInput>;
  /**
   * The policy to train. @default a new `TransformerPolicy` sized by `config.model`, with a character tokenizer
   * built from the training data (or `tokenizer`)
   */
  policy?: Policy;
  /** The frozen reference model of the KL term. @default a frozen copy of the policy as training starts */
  reference?: Policy;
  /** Tokenizer of the default policy. @default `CharTokenizer.fromCorpus` of every prompt and reference output */
  tokenizer?: Tokenizer;
  /** Training data, when it is not passed to `train(dataset)`. */
  dataset?: VeRLDatasetInput;
  /** Data for evaluations during training (`evalEvery`) and the default of `evaluate()`. @default the training data */
  evalSet?: VeRLDatasetInput;
  /** trainer-core callbacks (`MetricsLogger`, `ProgressReporter`, ...). @default [] */
  callbacks?: ReadonlyArray<TrainerCallbacks>;
  /** Write one JSON line of metrics per step to this file. @default undefined */
  metricsLogPath?: string;
  /** Cancels training at the next step. @default undefined */
  signal?: AbortSignal;
  /**
   * Show progress on stderr with trainer-core's `ProgressReporter` (a bar on a terminal, plain lines otherwise);
   * an object configures it.
   * @default false
   */
  progress?: boolean | ProgressReporterOptions;
  /** Called after every training step with its metrics (to draw curves). @default undefined */
  onStep?: (event: VeRLStepEvent) => void | Promise<void>;
  /**
   * Agent mode: the user's agent, run `groupSize` times per task (the dataset's samples) against the policy
   * served at `context.baseURL`; its episodes are scored and trained on (see `AgentRunner`). @default undefined
   */
  agent?: AgentFunction;
  /** Episode settings of agent mode (turns, timeout, concurrency, context). @default {} */
  agentOptions?: AgentOptionsInput;
  /** How agent mode serves the policy. @default `startGateway` of `@orbiter/gateway` */
  serve?: ServeModel;
}

/** The keys of {@link VeRLTrainerOptions}; any other key given to the constructor is refused (a typo). */
const OPTION_KEYS = {
  config: true,
  rewards: true,
  policy: true,
  reference: true,
  tokenizer: true,
  dataset: true,
  evalSet: true,
  callbacks: true,
  metricsLogPath: true,
  signal: true,
  progress: true,
  onStep: true,
  agent: true,
  agentOptions: true,
  serve: true,
} as const satisfies Record<keyof VeRLTrainerOptions, true>;

interface StepResult {
  loss: number;
  reward: number;
  metrics: Record<string, number>;
}

const POLICY_DIR = "policy";
const REFERENCE_DIR = "reference";

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
  private readonly evalSetOption: VeRLDatasetInput | undefined;
  private reference: Policy | null | undefined;
  private readonly workers = new TrainerWorkers();
  private ownsPolicy = false;
  private ownsReference = false;
  private samples: Sample[] | undefined;
  private samplesSource: unknown;
  private optimizer: AdamOptimizer | undefined;
  private pendingOptimizerState: AdamState | undefined;
  private klController: KlController;
  private backendName: BackendName | undefined;
  private skippedUpdates = 0;
  private resumedDataSize: number | undefined;
  private resumed = false;
  private readonly agentRunner: AgentRunner | undefined;

  /**
   * @throws InvalidArgumentError naming the field when the config or a reward spec is invalid, or an option is
   * unknown (a typo such as `datset`)
   */
  constructor(options: VeRLTrainerOptions) {
    if (options === null || typeof options !== "object") {
      throw new InvalidArgumentError("VeRLTrainer needs an options object with `rewards`", {
        field: "options",
      });
    }
    for (const key of Object.keys(options)) {
      if (!Object.hasOwn(OPTION_KEYS, key)) {
        throw new InvalidArgumentError(
          `Unknown VeRLTrainer option "${key}" (the options are ${Object.keys(OPTION_KEYS).join(", ")})`,
          { field: key, value: (options as unknown as Record<string, unknown>)[key] },
        );
      }
    }
    super(
      {
        agent: options.policy,
        dataset: options.dataset,
        rewardFn: parseRewardSpecs(options.rewards),
        config: options.config ?? {},
        callbacks: [
          ...(options.callbacks ?? []),
          ...(options.progress
            ? [
                new ProgressReporter({
                  label: "verl",
                  ...(options.progress === true ? {} : options.progress),
                }),
              ]
            : []),
        ],
        metricsLogPath: options.metricsLogPath,
        signal: options.signal,
      },
      VeRLConfig,
    );
    this.rewards = this.rewardFn as RewardSpec[];
    this.tokenizerOption = options.tokenizer;
    this.evalSetOption = options.evalSet;
    this.reference = options.reference;
    this.klController = this.config.adaptiveKl
      ? new AdaptiveKlController({
          initial: this.config.klCoef,
          target: this.config.adaptiveKl.target,
          horizon: this.config.adaptiveKl.horizon,
        })
      : new FixedKlController(this.config.klCoef);
    if (options.agent !== undefined) {
      this.agentRunner = new AgentRunner({
        agent: options.agent,
        options: parseWith(AgentOptions, options.agentOptions ?? {}, {
          what: "agent options",
          path: "agentOptions",
        }),
        config: this.config,
        rewards: this.rewards,
        serve: options.serve ?? serveWithGateway,
      });
    }
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
    return this.klController.value;
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
    const policy = this.agent;
    if (policy === undefined) return true;
    if (this.config.advantageEstimator === "gae" && !policy.hasValueHead) {
      throw new InvalidArgumentError(
        'advantageEstimator "gae" (PPO) needs a policy with a value head (TransformerPolicy config.valueHead: true)',
        { field: "config.advantageEstimator" },
      );
    }
    if (this.config.maxNewTokens + 2 > policy.contextLength) {
      throw new InvalidArgumentError(
        `maxNewTokens (${this.config.maxNewTokens}) leaves no room for a prompt in the context of ${policy.contextLength}`,
        { field: "config.maxNewTokens", value: this.config.maxNewTokens },
      );
    }
    return true;
  }

  /** Stores the dataset passed to `train(dataset)` and validates a new trainer. */
  protected override async prepareTrain(dataset?: unknown): Promise<void> {
    if (dataset !== undefined) this.dataset = dataset as VeRLDatasetInput;
    if (this.state === "created") await this.validate();
  }

  /**
   * Trains for `config.epochs` passes over the data (or up to `config.maxSteps`), continuing from the step counter
   * after `resume()`. Each step: rollout → rewards → advantages → `ppoEpochs` × mini-batch updates.
   *
   * @param dataset samples, prompt strings, or an object with `toSamples()`; @default the constructor's `dataset`
   * @returns `loss` and `reward` averaged over the last epoch's steps, and the last step's metrics in `extra`
   */
  override async train(dataset?: VeRLDatasetInput): Promise<CompletedTrainMetrics> {
    void dataset; // already stored by prepareTrain(), which runs first with the same arguments
    const samples = await this.loadSamples();
    const policy = await this.ensureTraining();
    const { config } = this;
    if (this.resumedDataSize !== undefined && this.resumedDataSize !== samples.length) {
      throw new CheckpointError(
        `The checkpoint was trained on ${this.resumedDataSize} samples but train() got ${samples.length}: resume with the same data`,
      );
    }
    const stepsPerEpoch = Math.ceil(samples.length / config.batchSize);
    // A fresh run or a second train() call trains `epochs` more passes; after resume() the run continues to the
    // total it was planned with. `maxSteps` caps the step counter itself.
    const startsAt = this.resumed ? 0 : this.progress.step;
    this.resumed = false;
    this.resumedDataSize = undefined;
    const planned = startsAt + config.epochs * stepsPerEpoch;
    const total = config.maxSteps === undefined ? planned : Math.min(planned, config.maxSteps);
    this.setTotalSteps(total);
    const evalSamples = config.evalEvery > 0 ? await this.evaluationSamples(undefined) : undefined;
    let lastEpochLoss: number[] = [];
    let lastEpochReward: number[] = [];
    let last: StepResult | undefined;
    let order: number[] = [];
    let orderEpoch = -1;
    while (this.progress.step < total) {
      const step = this.progress.step;
      const epoch = Math.floor(step / stepsPerEpoch);
      const indexInEpoch = step % stepsPerEpoch;
      if (epoch !== orderEpoch) {
        order = new SeededRandom(deriveSeed(config.seed, "epoch", epoch)).shuffle(
          Array.from({ length: samples.length }, (_, i) => i),
        );
        orderEpoch = epoch;
        lastEpochLoss = [];
        lastEpochReward = [];
      }
      // A batch always holds batchSize prompts: the last one of an epoch wraps around to its start.
      const prompts = Array.from(
        { length: config.batchSize },
        (_, i) => samples[order[(indexInEpoch * config.batchSize + i) % samples.length] as number] as Sample,
      );
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
      if (indexInEpoch === stepsPerEpoch - 1) {
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
    const extra: Record<string, number> = { ...(last?.metrics ?? {}) };
    extra["train/skipped_updates"] = this.skippedUpdates;
    return {
      loss: finiteMean(lastEpochLoss),
      reward: lastEpochReward.length > 0 ? mean(lastEpochReward) : Number.NaN,
      steps: this.progress.step,
      extra,
    };
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
    const samples = await this.evaluationSamples(testSet);
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
   * threads (`config.workers`); the promise resolves once every worker has exited.
   */
  dispose(): Promise<void> {
    const workersEnded = this.workers.dispose();
    this.optimizer?.dispose();
    this.optimizer = undefined;
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
    await saveCheckpoint(join(dir, POLICY_DIR), {
      policy,
      ...(this.optimizer ? { optimizer: this.optimizer } : {}),
    });
    if (this.reference) await this.reference.save(join(dir, REFERENCE_DIR));
    return {
      klCoef: this.klController.value,
      skippedUpdates: this.skippedUpdates,
      hasReference: this.reference != null,
      hasOptimizer: this.optimizer !== undefined,
      // The data cursor: the order of epoch e is a seeded shuffle of `samples` indices (seed, "epoch", e) and
      // step s takes batch s mod stepsPerEpoch of it, so the step counter and the dataset size locate it exactly.
      // Sampling and mini-batch seeds derive from (seed, step) the same way.
      dataSize: this.samples?.length ?? null,
    };
  }

  protected override async onResume(dir: string, custom: JsonValue | null): Promise<void> {
    const state = (custom ?? {}) as {
      klCoef?: number;
      skippedUpdates?: number;
      hasReference?: boolean;
      hasOptimizer?: boolean;
      dataSize?: number | null;
    };
    await this.ensureBackend();
    const { policy: saved, optimizerState } = await loadCheckpoint(join(dir, POLICY_DIR));
    let reference: TransformerPolicy | undefined;
    // Everything that can fail comes first, so that a failure frees what was loaded and adopts nothing.
    try {
      if (state.hasOptimizer && optimizerState === undefined) {
        throw new CheckpointError(`${dir} lacks the optimiser state it should have`, { path: dir });
      }
      if (state.hasReference) {
        reference = await TransformerPolicy.load(join(dir, REFERENCE_DIR), { frozen: true });
      }
      this.agent?.setWeights(saved.getWeights());
      if (reference && this.reference && !this.ownsReference)
        this.reference.setWeights(reference.getWeights());
    } catch (error) {
      saved.dispose();
      reference?.dispose();
      throw error;
    }
    if (this.agent === undefined) {
      this.agent = saved;
      this.ownsPolicy = true;
    } else {
      saved.dispose();
    }
    if (reference) {
      if (this.reference && !this.ownsReference) {
        reference.dispose();
      } else {
        this.reference?.dispose();
        this.reference = reference;
        this.ownsReference = true;
      }
    }
    // The workers hold replicas of the objects replaced above: the next step starts new ones.
    await this.workers.dispose();
    this.pendingOptimizerState = optimizerState;
    if (typeof state.klCoef === "number") this.klController.value = state.klCoef;
    this.skippedUpdates = state.skippedUpdates ?? 0;
    this.resumedDataSize = typeof state.dataSize === "number" ? state.dataSize : undefined;
    this.resumed = true;
  }

  private async trainStep(policy: Policy, prompts: Sample[], step: number): Promise<StepResult> {
    const { config } = this;
    if (this.agentRunner) {
      const result = await this.agentRunner.step({
        policy,
        reference: this.reference ?? null,
        optimizer: this.optimizer as AdamOptimizer,
        tasks: prompts,
        step,
        klCoef: this.klController.value,
        learningRate: this.learningRate(step),
        ...(this.signal ? { signal: this.signal } : {}),
      });
      this.klController.update(result.meanKl, result.rows);
      this.skippedUpdates += result.skipped;
      if (this.backendName !== undefined) result.metrics[`backend/${this.backendName}`] = 1;
      return result;
    }
    const optimizer = this.optimizer as AdamOptimizer;
    const klCoef = this.klController.value;
    const started = performance.now();
    const reference = this.reference ?? null;
    const group = await this.workers.ensure(config, policy, reference, this.backendName ?? "cpu");
    const generation = await (group ?? policy).generate(
      encodePromptsForRollout(policy, prompts, config.maxNewTokens),
      {
        maxNewTokens: config.maxNewTokens,
        n: config.groupSize,
        temperature: config.temperature,
        topK: config.topK,
        topP: config.topP,
        seed: deriveSeed(config.seed, "rollout", step),
        withValues: config.advantageEstimator === "gae" && policy.hasValueHead,
      },
    );
    const rolledOut = performance.now();
    const responses = generation.texts.map((output, row) => ({
      output,
      sample: prompts[generation.promptIndex[row] as number] as Sample,
    }));
    const scores = await scoreRewards(this.rewards, responses, { onRewardError: config.onRewardError });
    const scored = performance.now();
    let advantageScores: Array<number | null> = scores.totals;
    let scoresAreAdvantages = false;
    if (config.rewardCombination === "normalize-then-sum") {
      const combined = normalizeThenSum(scores.values, scores.weights, config.groupSize);
      advantageScores = combined.map((value, row) => (scores.totals[row] === null ? null : value));
      scoresAreAdvantages = config.advantageEstimator === "grpo";
    }
    let penaltySum = 0;
    if (config.overlongPenalty !== null) {
      const { bufferLength, factor } = config.overlongPenalty;
      advantageScores = advantageScores.map((score, row) => {
        const penalty = softOverlongPenalty((generation.responses[row] as number[]).length, {
          maxLength: config.maxNewTokens,
          bufferLength,
          factor,
        });
        penaltySum += penalty;
        return score === null ? null : score + penalty;
      });
    }
    if (config.filterZeroStdGroups && config.groupSize > 1) {
      advantageScores = withoutFlatGroups(scores.totals, config.groupSize, advantageScores);
    }
    const referenceLogProbs =
      group !== null && reference !== null
        ? await group.referenceLogProbs(generation, config.temperature)
        : undefined;
    const { batch, stats } = buildRolloutBatch({
      ...(referenceLogProbs === undefined ? {} : { referenceLogProbs }),
      config,
      policy,
      reference: this.reference ?? null,
      generation,
      scores: advantageScores,
      scoresAreAdvantages,
      klCoef,
      ...(config.maskTruncated ? { excludedRows: generation.finished.map((done) => !done) } : {}),
    });
    const learningRate = this.learningRate(step);
    let update: Awaited<ReturnType<typeof runPolicyUpdate>>;
    try {
      if (advantageScores.every((score) => score === null)) {
        // Every response abstained or was filtered out: nothing to learn from this rollout.
        update = { metrics: {}, loss: Number.NaN, applied: 0, skipped: 0 };
      } else {
        update = await runPolicyUpdate({
          config,
          policy,
          batch,
          klCoef,
          learningRate,
          optimizer,
          seed: deriveSeed(config.seed, "update", step),
          ...(group === null ? {} : { workers: group }),
        });
      }
    } finally {
      batch.dispose();
    }
    this.klController.update(stats.meanKl, generation.batchSize);
    this.skippedUpdates += update.skipped;
    const finished = performance.now();
    const lengths = generation.responses.map((response) => response.length);
    const metrics: Record<string, number> = {
      ...rewardMetrics(scores),
      ...stats.metrics,
      ...update.metrics,
      "actor/lr": learningRate,
      "actor/kl_coef": klCoef,
      "actor/reference_kl": stats.meanKl,
      "actor/skipped_updates": update.skipped,
      frac_reward_zero_std: zeroStdFraction(scores.totals, config.groupSize),
      "response_length/mean": mean(lengths),
      "response_length/max": Math.max(...lengths),
      "response_length/clip_ratio": generation.finished.filter((done) => !done).length / generation.batchSize,
      "timing/rollout_ms": rolledOut - started,
      "timing/reward_ms": scored - rolledOut,
      "timing/update_ms": finished - scored,
      "timing/step_ms": finished - started,
      "perf/workers": this.workers.count,
      "timing/worker_startup_ms": this.workers.startupMs,
    };
    if (config.overlongPenalty !== null)
      metrics["reward/overlong_penalty/mean"] = penaltySum / generation.batchSize;
    // The backend, in a form the numeric metrics log keeps: `backend/wasm: 1`.
    if (this.backendName !== undefined) metrics[`backend/${this.backendName}`] = 1;
    return { loss: update.loss, reward: metrics["reward/mean"] as number, metrics };
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
    return this.evaluateSamples(await this.evaluationSamples(testSet), options);
  }

  private async evaluateSamples(samples: Sample[], options: EvaluateOptions): Promise<PolicyEvaluation> {
    const policy = await this.ensurePolicy();
    if (policy === undefined) {
      throw new InvalidArgumentError(
        "No policy to evaluate: pass `policy`, or `dataset` or `tokenizer` to the constructor so that the default policy can be built",
        { field: "policy" },
      );
    }
    const { config } = this;
    if (this.agentRunner) return this.agentRunner.evaluate(policy, samples, options);
    return evaluatePolicy({
      policy,
      rewards: this.rewards,
      samples,
      maxNewTokens: config.maxNewTokens,
      temperature: config.temperature,
      topK: config.topK,
      topP: config.topP,
      accuracyThreshold: config.accuracyThreshold,
      onRewardError: config.onRewardError,
      seed: config.seed,
      options,
    });
  }

  private async evaluationSamples(testSet: VeRLDatasetInput | undefined): Promise<Sample[]> {
    if (testSet !== undefined) return resolveSamples(testSet, "testSet");
    if (this.evalSetOption !== undefined) return resolveSamples(this.evalSetOption, "evalSet");
    return this.loadSamples();
  }

  private async loadSamples(): Promise<Sample[]> {
    if (this.dataset === undefined) {
      throw new InvalidArgumentError("No training data: pass it to train(dataset) or to the constructor", {
        field: "dataset",
      });
    }
    if (this.samples === undefined || this.samplesSource !== this.dataset) {
      this.samples = await resolveSamples(this.dataset);
      this.samplesSource = this.dataset;
    }
    return this.samples;
  }

  private async ensureBackend(): Promise<void> {
    if (this.backendName !== undefined) return;
    // A policy given by the caller already lives on a backend: keep it unless one is named explicitly.
    if (this.agent !== undefined && this.config.backend === "auto") this.backendName = currentBackend();
    else this.backendName = await initBackend({ backend: this.config.backend });
  }

  private async ensurePolicy(): Promise<Policy | undefined> {
    if (this.agent !== undefined) {
      await this.ensureBackend();
      return this.agent;
    }
    if (this.tokenizerOption === undefined && this.dataset === undefined) return undefined;
    await this.ensureBackend();
    const samples = this.dataset === undefined ? [] : await this.loadSamples();
    const extra = this.evalSetOption === undefined ? [] : await resolveSamples(this.evalSetOption, "evalSet");
    const corpus = [...samples, ...extra].flatMap((sample) => [sample.input, sample.output]);
    const tokenizer =
      this.tokenizerOption ?? (this.agentRunner ? chatTokenizer(corpus) : CharTokenizer.fromCorpus(corpus));
    const model = this.config.model ?? {};
    const longestPrompt = Math.max(0, ...samples.map((sample) => tokenizer.encode(sample.input).length));
    const contextLength =
      model.contextLength ??
      (this.agentRunner
        ? this.agentRunner.options.contextLength
        : Math.max(64, longestPrompt + 1 + this.config.maxNewTokens));
    this.agent = new TransformerPolicy({
      tokenizer,
      config: {
        ...model,
        contextLength,
        valueHead: model.valueHead ?? this.config.advantageEstimator === "gae",
      },
      seed: deriveSeed(this.config.seed, "policy"),
    });
    this.ownsPolicy = true;
    return this.agent;
  }

  private async ensureTraining(): Promise<Policy> {
    const policy = await this.ensurePolicy();
    if (policy === undefined) {
      throw new InvalidArgumentError("No policy: pass one, a tokenizer, or training data", {
        field: "policy",
      });
    }
    const needsReference = this.config.klCoef > 0 || this.config.adaptiveKl !== null;
    if (this.reference === undefined || (this.reference === null && needsReference)) {
      this.reference = needsReference ? policy.clone({ frozen: true }) : null;
      this.ownsReference = this.reference !== null;
    }
    if (this.optimizer === undefined) {
      this.optimizer = new AdamOptimizer(policy.parameters(), { learningRate: this.config.learningRate });
      if (this.pendingOptimizerState) {
        this.optimizer.setState(this.pendingOptimizerState);
        this.pendingOptimizerState = undefined;
      }
    }
    return policy;
  }
}

function mean(values: ReadonlyArray<number>): number {
  if (values.length === 0) return 0;
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

/** Mean of the finite values (a step without an update has a NaN loss); NaN when there is none. */
function finiteMean(values: ReadonlyArray<number>): number {
  const finite = values.filter(Number.isFinite);
  return finite.length === 0 ? Number.NaN : mean(finite);
}

/** `scores` with every row of a group whose `totals` are all equal set to null (left out of the update). */
function withoutFlatGroups(
  totals: ReadonlyArray<number | null>,
  groupSize: number,
  scores: ReadonlyArray<number | null>,
): Array<number | null> {
  const out = [...scores];
  for (let start = 0; start < totals.length; start += groupSize) {
    if (isFlatGroup(totals, start, groupSize)) {
      for (let row = start; row < start + groupSize; row++) out[row] = null;
    }
  }
  return out;
}

/** Fraction of prompt groups whose scores are all equal (they carry no GRPO signal). */
function zeroStdFraction(totals: ReadonlyArray<number | null>, groupSize: number): number {
  if (groupSize < 2) return 0;
  let flat = 0;
  let groups = 0;
  for (let start = 0; start < totals.length; start += groupSize) {
    groups++;
    if (isFlatGroup(totals, start, groupSize)) flat++;
  }
  return groups === 0 ? 0 : flat / groups;
}

/** Whether rows `[start, start + groupSize)` all got the same total (an abstention counts as 0). */
function isFlatGroup(totals: ReadonlyArray<number | null>, start: number, groupSize: number): boolean {
  const group = totals.slice(start, start + groupSize).map((value) => value ?? 0);
  return group.every((value) => Math.abs(value - (group[0] as number)) < 1e-12);
}
