import type { Sample } from "@orbiter/types";
import type { AgentRunner } from "../agent/agent-runner.js";
import type { BackendName } from "../backend/init-backend.js";
import type { VeRLConfig } from "../config/verl-config.js";
import type { Policy } from "../model/policy.js";
import type { AdamOptimizer } from "../optim/adam-optimizer.js";
import type { TrainerWorkers } from "../parallel/trainer-workers.js";
import type { RewardSpec } from "../rewards/reward-spec.js";
import { runRolloutStep, type TrainStepResult } from "./rollout-step.js";

/** Everything one step of `VeRLTrainer.train()` reads. */
export interface TrainerStepInput {
  config: VeRLConfig;
  policy: Policy;
  reference: Policy | null;
  optimizer: AdamOptimizer;
  rewards: ReadonlyArray<RewardSpec>;
  /** The trainer's worker threads. */
  workers: TrainerWorkers;
  backend: BackendName | undefined;
  /** Agent mode's runner; without one the step samples single responses to the prompts. */
  agentRunner: AgentRunner | undefined;
  signal: AbortSignal | undefined;
  /** The batch: prompts, or agent tasks. */
  prompts: Sample[];
  step: number;
  klCoef: number;
  learningRate: number;
}

/**
 * One training step of the trainer: agent episodes when an agent runner is set (`VeRLTrainerOptions.agent`),
 * otherwise a rollout of responses to the prompts; then the update. The result carries a `backend/<name>: 1`
 * metric (the form the numeric metrics log keeps) when the backend is known.
 */
export async function runTrainerStep(input: TrainerStepInput): Promise<TrainStepResult> {
  const { agentRunner, backend, signal, prompts, workers } = input;
  const common = {
    policy: input.policy,
    reference: input.reference,
    optimizer: input.optimizer,
    step: input.step,
    klCoef: input.klCoef,
    learningRate: input.learningRate,
  };
  const result = agentRunner
    ? await agentRunner.step({
        ...common,
        tasks: prompts,
        workers,
        ...(backend === undefined ? {} : { backend }),
        ...(signal ? { signal } : {}),
      })
    : await runRolloutStep({
        ...common,
        config: input.config,
        rewards: input.rewards,
        workers,
        backend,
        prompts,
      });
  if (backend !== undefined) result.metrics[`backend/${backend}`] = 1;
  return result;
}
