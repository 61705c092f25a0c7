import { learningRateAt } from "@orbiter/trainer-core";
import type * as tf from "@tensorflow/tfjs";
import type { VeRLConfig } from "../config/verl-config.js";
import type { Policy } from "../model/policy.js";

/** Stable-name prefix of the critic's parameters in a policy with a value head. */
export const VALUE_HEAD_PREFIX = "value_head.";

/**
 * The critic-only steps of a run under `config` (`criticWarmupSteps`), or 0 when the advantage estimator uses no
 * critic (GRPO, RLOO, REINFORCE++ ignore the setting).
 */
export function criticWarmupStepsOf(config: VeRLConfig): number {
  return config.advantageEstimator === "gae" ? config.criticWarmupSteps : 0;
}

/**
 * The learning rate of training step `step` (0-based) of a run of `totalSteps`: the peak `learningRate` during the
 * critic warm-up, then `config.lrSchedule` (linear warm-up, cosine decay) counted from the first policy step, so
 * that the policy sees the same schedule, shifted, as without a critic warm-up.
 */
export function stepLearningRate(step: number, config: VeRLConfig, totalSteps: number | undefined): number {
  const warmup = criticWarmupStepsOf(config);
  if (step < warmup) return config.learningRate;
  const total = totalSteps ?? config.maxSteps;
  return learningRateAt(step - warmup, config, total === undefined ? undefined : Math.max(total - warmup, 1));
}

/**
 * The variables of the critic's own parameters (the value head, named `value_head.*`), which a critic-only update
 * trains; empty for a policy without a value head. The trunk the value head reads is the policy's and is left out.
 */
export function criticVariables(policy: Policy): tf.Variable[] {
  if (!policy.hasValueHead) return [];
  return policy
    .parameters()
    .filter(({ name, variable }) => name.startsWith(VALUE_HEAD_PREFIX) && variable.trainable)
    .map(({ variable }) => variable);
}

/**
 * The variables a participant differentiates: the value head's alone in a critic-only step, else every trainable
 * variable of the policy.
 */
export function gradientVariables(policy: Policy, criticOnly: boolean | undefined): tf.Variable[] {
  return criticOnly === true ? criticVariables(policy) : policy.trainableVariables();
}
