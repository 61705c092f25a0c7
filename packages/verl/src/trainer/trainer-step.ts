import type { AgentRunner } from "../agent/agent-runner.js";
import { type RolloutStepInput, runRolloutStep, type TrainStepResult } from "./rollout-step.js";

/** Everything one step of `VeRLTrainer.train()` reads: a rollout step's inputs, and agent mode's. */
export interface TrainerStepInput extends RolloutStepInput {
  /** Agent mode's runner; without one the step samples single responses to the prompts. */
  agentRunner: AgentRunner | undefined;
  signal: AbortSignal | undefined;
}

/**
 * One training step of the trainer: agent episodes when an agent runner is set (`VeRLTrainerOptions.agent`),
 * otherwise a rollout of responses to the prompts; then the update. The result carries a `backend/<name>: 1`
 * metric (the form the numeric metrics log keeps) when the backend is known.
 */
export async function runTrainerStep(input: TrainerStepInput): Promise<TrainStepResult> {
  const { agentRunner, signal, ...rollout } = input;
  const { policy, reference, optimizer, step, klCoef, learningRate, workers, backend, prompts } = rollout;
  const result = agentRunner
    ? await agentRunner.step({
        policy,
        reference,
        optimizer,
        step,
        klCoef,
        learningRate,
        tasks: prompts,
        workers,
        ...(backend === undefined ? {} : { backend }),
        ...(signal ? { signal } : {}),
      })
    : await runRolloutStep(rollout);
  if (backend !== undefined) result.metrics[`backend/${backend}`] = 1;
  return result;
}
