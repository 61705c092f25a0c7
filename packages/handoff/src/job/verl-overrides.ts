import { InvalidArgumentError } from "@orbiter/types";
import { resolveAdvantageScale, type VeRLConfig } from "@orbiter/verl";
import type { VerlOverride } from "./verl-settings.js";
import { VERL_CONFIG_KEYS } from "./verl-version.js";

/** The job-level choices that are not part of VeRLConfig. */
export interface VerlJobShape {
  /** Hugging Face model id or path, on the cluster. */
  model: string;
  /** Ray nodes. */
  nodes: number;
  /** GPUs per node. */
  gpusPerNode: number;
  /** Rows of train.parquet. */
  trainRows: number;
  /** Whether val.parquet is part of the job. */
  hasValidation: boolean;
  /** Longest prompt in tokens of the model's tokenizer. */
  maxPromptLength: number;
  /** Rollout engine. */
  rollout: "vllm" | "sglang";
  /** Tensor-parallel size of the rollout engine. */
  tensorParallelSize: number;
  /** Share of GPU memory the rollout engine may take. */
  gpuMemoryUtilization: number;
  /** Trainer loggers. */
  loggers: string[];
  /** `trainer.project_name`. */
  projectName: string;
  /** `trainer.experiment_name`. */
  experimentName: string;
}

/** verl's names of our KL estimators. */
const KL_ESTIMATOR = { k1: "kl", abs: "abs", k2: "mse", k3: "low_var_kl" } as const;
/** verl's names of our advantage estimators. */
const ADVANTAGE_ESTIMATOR = {
  gae: "gae",
  grpo: "grpo",
  rloo: "rloo",
  "reinforce++": "reinforce_plus_plus",
  "reinforce++-baseline": "reinforce_plus_plus_baseline",
} as const;

function fail(field: string, message: string, value: unknown): never {
  throw new InvalidArgumentError(message, { field, value });
}

/** Optimiser steps of the job: ⌊rows / batchSize⌋ per epoch (verl drops the last partial batch), capped by maxSteps. */
export function totalTrainingSteps(config: VeRLConfig, trainRows: number): number {
  const perEpoch = Math.floor(trainRows / config.batchSize);
  if (perEpoch === 0) {
    fail(
      "config.batchSize",
      `train has ${trainRows} rows, fewer than one batch of ${config.batchSize} prompts: verl would run no step`,
      config.batchSize,
    );
  }
  const total = perEpoch * config.epochs;
  return config.maxSteps === undefined ? total : Math.min(total, config.maxSteps);
}

/**
 * The Hydra overrides of `python3 -m verl.trainer.main_ppo` for a checked VeRLConfig (see `checkVerlSettings`)
 * and the job's shape. Batch sizes follow verl's units: `data.train_batch_size` and `ppo_mini_batch_size` count
 * prompts (verl multiplies them by `rollout.n`), micro-batches count responses per GPU. Throws an
 * `InvalidArgumentError` naming the field when the sizes cannot be split over the GPUs.
 */
export function verlOverrides(config: VeRLConfig, job: VerlJobShape): VerlOverride[] {
  const world = job.nodes * job.gpusPerNode;
  const responses = config.batchSize * config.groupSize;
  if (responses % world !== 0) {
    fail(
      "gpusPerNode",
      `batchSize × groupSize (${responses} responses) must split evenly over ${world} GPUs (nodes × gpusPerNode)`,
      job.gpusPerNode,
    );
  }
  if (config.miniBatchSize % world !== 0) {
    fail(
      "config.miniBatchSize",
      `miniBatchSize (${config.miniBatchSize} responses) must split evenly over ${world} GPUs (nodes × gpusPerNode)`,
      config.miniBatchSize,
    );
  }
  if (job.tensorParallelSize > job.gpusPerNode || job.gpusPerNode % job.tensorParallelSize !== 0) {
    fail(
      "tensorParallelSize",
      `tensorParallelSize must divide gpusPerNode (${job.gpusPerNode})`,
      job.tensorParallelSize,
    );
  }
  const perGpuMiniBatch = config.miniBatchSize / world;
  let micro = Math.min(config.microBatchSize, perGpuMiniBatch);
  while (perGpuMiniBatch % micro !== 0) micro--;
  const steps = totalTrainingSteps(config, job.trainRows);
  const schedule = config.lrSchedule === "cosine" ? "cosine" : "constant";
  const warmup = config.lrSchedule === "constant" ? 0 : config.warmupSteps;
  const minRatio = config.lrSchedule === "cosine" ? config.minLearningRate / config.learningRate : 0;
  const klOn = config.klCoef > 0;
  const klInLoss = klOn && config.klPlacement === "loss";
  const klInReward = klOn && config.klPlacement === "reward";
  const critic = config.advantageEstimator === "gae";
  const out: VerlOverride[] = [];
  const set = (key: string, value: VerlOverride["value"], from: string): void => {
    out.push({ key, value, from });
  };

  set("algorithm.adv_estimator", ADVANTAGE_ESTIMATOR[config.advantageEstimator], "advantageEstimator");
  // verl's actor starts its optimiser fresh from the model (no carried moments), where "auto" divides by the group std.
  const normalizeStd = resolveAdvantageScale(config.normalizeAdvantageStd, false);
  set("algorithm.norm_adv_by_std_in_grpo", normalizeStd, "normalizeAdvantageStd");
  set("algorithm.gamma", config.gamma, "gamma");
  set("algorithm.lam", config.lambda, "lambda");
  set("algorithm.use_kl_in_reward", klInReward, "klPlacement");
  set("algorithm.kl_penalty", KL_ESTIMATOR[config.klEstimator], "klEstimator");
  set("algorithm.kl_ctrl.kl_coef", klInReward ? config.klCoef : 0, "klCoef");
  set("algorithm.kl_ctrl.type", config.adaptiveKl === null ? "fixed" : "adaptive", "adaptiveKl");
  if (config.adaptiveKl !== null) {
    set("algorithm.kl_ctrl.target_kl", config.adaptiveKl.target, "adaptiveKl.target");
    set("algorithm.kl_ctrl.horizon", config.adaptiveKl.horizon, "adaptiveKl.horizon");
  }

  set("data.train_files", { jobPath: "train.parquet" }, "train");
  set("data.val_files", { jobPath: job.hasValidation ? "val.parquet" : "train.parquet" }, "val");
  set("data.train_batch_size", config.batchSize, "batchSize");
  set("data.max_prompt_length", job.maxPromptLength, "maxPromptLength");
  set("data.max_response_length", config.maxNewTokens, "maxNewTokens");
  set("data.seed", config.seed, "seed");

  const actor = "actor_rollout_ref.actor";
  set("actor_rollout_ref.model.path", job.model, "model");
  set(`${actor}.optim.lr`, config.learningRate, "learningRate");
  set(`${actor}.optim.lr_warmup_steps`, warmup, "warmupSteps");
  set(`${actor}.optim.lr_scheduler_type`, schedule, "lrSchedule");
  set(`${actor}.optim.min_lr_ratio`, minRatio, "minLearningRate");
  set(`${actor}.optim.weight_decay`, 0, "learningRate");
  set(`${actor}.optim.clip_grad`, config.gradClip, "gradClip");
  set(`${actor}.grad_clip`, config.gradClip, "gradClip");
  set(`${actor}.ppo_mini_batch_size`, config.miniBatchSize / config.groupSize, "miniBatchSize");
  set(`${actor}.ppo_micro_batch_size_per_gpu`, micro, "microBatchSize");
  set(`${actor}.ppo_epochs`, config.ppoEpochs, "ppoEpochs");
  set(`${actor}.data_loader_seed`, config.seed, "seed");
  set(`${actor}.clip_ratio`, config.clipRange, "clipRange");
  set(`${actor}.clip_ratio_low`, config.clipRangeLow, "clipRangeLow");
  set(`${actor}.clip_ratio_high`, config.clipRangeHigh, "clipRangeHigh");
  set(`${actor}.clip_ratio_c`, config.dualClip as number, "dualClip");
  set(`${actor}.loss_agg_mode`, config.lossAggregation, "lossAggregation");
  set(`${actor}.entropy_coeff`, config.entropyCoef, "entropyCoef");
  set(`${actor}.use_kl_loss`, klInLoss, "klPlacement");
  set(`${actor}.kl_loss_coef`, klInLoss ? config.klCoef : 0, "klCoef");
  set(`${actor}.kl_loss_type`, KL_ESTIMATOR[config.klEstimator], "klEstimator");

  const rollout = "actor_rollout_ref.rollout";
  set(`${rollout}.name`, job.rollout, "rollout");
  set(`${rollout}.n`, config.groupSize, "groupSize");
  set(`${rollout}.temperature`, config.temperature, "temperature");
  set(`${rollout}.top_k`, config.topK === 0 ? -1 : config.topK, "topK");
  set(`${rollout}.top_p`, config.topP, "topP");
  set(`${rollout}.tensor_model_parallel_size`, job.tensorParallelSize, "tensorParallelSize");
  set(`${rollout}.gpu_memory_utilization`, job.gpuMemoryUtilization, "gpuMemoryUtilization");
  set(`${rollout}.log_prob_micro_batch_size_per_gpu`, micro, "microBatchSize");
  set("actor_rollout_ref.ref.log_prob_micro_batch_size_per_gpu", micro, "microBatchSize");

  if (critic) {
    set("critic.model.path", job.model, "model");
    set("critic.optim.lr", config.learningRate, "learningRate");
    set("critic.optim.lr_warmup_steps", warmup, "warmupSteps");
    set("critic.optim.lr_scheduler_type", schedule, "lrSchedule");
    set("critic.optim.min_lr_ratio", minRatio, "minLearningRate");
    set("critic.optim.weight_decay", 0, "learningRate");
    set("critic.optim.clip_grad", config.gradClip, "gradClip");
    set("critic.grad_clip", config.gradClip, "gradClip");
    set("critic.cliprange_value", config.valueClip as number, "valueClip");
    set("critic.ppo_micro_batch_size_per_gpu", micro, "microBatchSize");
    // verl's actor scheduler, like ours, only steps with actor updates: the warm-up counts policy steps in both.
    set("trainer.critic_warmup", config.criticWarmupSteps, "criticWarmupSteps");
  }

  set("custom_reward_function.path", { jobPath: "reward_fn.py" }, "rewards");
  set("custom_reward_function.name", "compute_score", "rewards");

  set("trainer.total_epochs", config.epochs, "epochs");
  if (config.maxSteps !== undefined) set("trainer.total_training_steps", config.maxSteps, "maxSteps");
  const testFreq = config.evalEvery > 0 ? config.evalEvery : job.hasValidation ? steps : -1;
  set("trainer.test_freq", testFreq, "evalEvery");
  set("trainer.val_before_train", false, "evalEvery");
  set("trainer.save_freq", config.saveEvery > 0 ? config.saveEvery : -1, "saveEvery");
  set("trainer.nnodes", job.nodes, "nodes");
  set("trainer.n_gpus_per_node", job.gpusPerNode, "gpusPerNode");
  set("trainer.logger", job.loggers, "loggers");
  set("trainer.project_name", job.projectName, "projectName");
  set("trainer.experiment_name", job.experimentName, "experimentName");

  for (const { key } of out) {
    if (!VERL_CONFIG_KEYS.has(key))
      throw new Error(`internal: ${key} is not a key of the pinned verl config`);
  }
  return out;
}
