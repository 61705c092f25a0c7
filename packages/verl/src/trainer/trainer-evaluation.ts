import { InvalidArgumentError, type Sample } from "@orbiter/types";
import type { AgentRunner } from "../agent/agent-runner.js";
import type { VeRLConfig } from "../config/verl-config.js";
import type { Policy } from "../model/policy.js";
import type { TrainerWorkers } from "../parallel/trainer-workers.js";
import type { RewardSpec } from "../rewards/reward-spec.js";
import { type EvaluateOptions, evaluatePolicy, type PolicyEvaluation } from "./evaluate-policy.js";

/** What an evaluation by `VeRLTrainer` reads. */
export interface TrainerEvaluationInput {
  /** The policy to evaluate; undefined when the trainer has none and cannot build one. */
  policy: Policy | undefined;
  samples: Sample[];
  options: EvaluateOptions;
  config: VeRLConfig;
  rewards: ReadonlyArray<RewardSpec>;
  /** Agent mode's runner: its episodes are evaluated instead of single responses. */
  agentRunner: AgentRunner | undefined;
  workers: TrainerWorkers;
}

/**
 * Evaluates the trainer's policy with its rewards and sampling settings: agent episodes in agent mode (on the
 * worker threads when training started them), otherwise one response per sample.
 *
 * @throws InvalidArgumentError naming `policy` when there is none
 */
export function evaluateTrainerPolicy(input: TrainerEvaluationInput): Promise<PolicyEvaluation> {
  const { policy, samples, options, config } = input;
  if (policy === undefined) {
    throw new InvalidArgumentError(
      "No policy to evaluate: pass `policy`, or `dataset` or `tokenizer` to the constructor so that the default policy can be built",
      { field: "policy" },
    );
  }
  if (input.agentRunner) return input.agentRunner.evaluate(policy, samples, options, input.workers.running);
  const { maxNewTokens, temperature, topK, topP, accuracyThreshold, onRewardError, seed } = config;
  const sampling = { maxNewTokens, temperature, topK, topP, accuracyThreshold, onRewardError, seed };
  return evaluatePolicy({ policy, rewards: input.rewards, samples, ...sampling, options });
}
