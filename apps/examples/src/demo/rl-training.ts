import type { TrainerCallbacks } from "@orbiter/trainer-core";
import type { Sample } from "@orbiter/types";
import { type Policy, type VeRLConfigInput, VeRLTrainer } from "@orbiter/verl";
import type { RlSettings } from "./demo-results.js";
import { AGENT_OPTIONS, MAX_TURN_TOKENS, TRAVEL_AGENT, VERIFIER_REWARD } from "./evaluation.js";

/**
 * RL settings for the demo's default policy (rotary positions), used when no evolution result is available and as
 * the first candidate of the search. Its SFT warm start already reaches about 83% held-out success and solves every
 * training request greedily, so RL's updates carry little signal, and Adam, which moves every weight by about the
 * learning rate whatever the gradient's size, turns a high rate into a walk away from the warm start: GRPO (40
 * steps) from that warm start ended at 73.7% (-9.5 points) at 5e-4, the rate that suits learned positions, and
 * within one request of the start at 1e-4 (see apps/examples/README.md, "What limits RL here").
 */
export const DEFAULT_RL_SETTINGS: RlSettings = { learningRate: 1e-4, klCoef: 0.01, temperature: 1 };

/**
 * RL settings for a policy with learned positions only (`--positions learned`): its warm start is much weaker
 * (about 28%) and RL has calls to fix. Under the library's warm-up + cosine schedule, GRPO (40 steps) from that
 * warm start reached 33.7% / 34.7% held-out success at 5e-4 against 32.6% / 24.2% at 1e-3 (two RL seeds each;
 * 2e-3 collapsed to 0%).
 */
export const LEARNED_POSITIONS_RL_SETTINGS: RlSettings = { learningRate: 5e-4, klCoef: 0.01, temperature: 1 };

/** The default RL settings for a policy with or without rotary positions. */
export function defaultRlSettings(rotary: boolean): RlSettings {
  return { ...(rotary ? DEFAULT_RL_SETTINGS : LEARNED_POSITIONS_RL_SETTINGS) };
}

/**
 * PPO runs at this fraction of the tuned learning rate. Evolution tunes the settings with short GRPO runs; PPO
 * starts with an untrained critic and updates on single answers, and at the full rate it drifts away from the
 * warm start (measured on the default run: -8 points of test accuracy at 1x, +20 at 0.5x).
 */
export const PPO_LEARNING_RATE_FACTOR = 0.5;

/** What {@link trainWithRl} needs. */
export interface RlTrainingInput {
  algorithm: "grpo" | "ppo";
  /** The policy to train (updated in place). */
  policy: Policy;
  /** Training prompts (their reference outputs are not used: the verifier scores answers). */
  samples: ReadonlyArray<Sample>;
  settings: RlSettings;
  steps: number;
  /** Prompts per step. */
  batchSize: number;
  /** Responses per prompt (GRPO). */
  groupSize: number;
  seed: number;
  /** Write one line of metrics per step here. */
  metricsLogPath?: string;
  /** trainer-core callbacks, e.g. a `ProgressReporter`. */
  callbacks?: ReadonlyArray<TrainerCallbacks>;
}

/** What {@link trainWithRl} returns. */
export interface RlTrainingOutput {
  /** Mean wall time of a step. */
  meanStepMs: number;
  /** Steps taken. */
  steps: number;
  /** Prompts per step actually used. */
  batchSize: number;
  /** Responses per prompt actually used. */
  groupSize: number;
}

/** The VeRL configuration of a run: GRPO groups, or PPO with a critic (GAE) and a larger batch of single answers. */
export function rlConfig(
  input: Omit<RlTrainingInput, "policy" | "metricsLogPath" | "callbacks">,
): VeRLConfigInput {
  const { algorithm, settings, steps, batchSize, groupSize, seed, samples } = input;
  const common = {
    learningRate: settings.learningRate,
    klCoef: settings.klCoef,
    temperature: settings.temperature,
    maxNewTokens: MAX_TURN_TOKENS,
    maxSteps: steps,
    seed,
  };
  if (algorithm === "grpo") {
    const perEpoch = Math.ceil(samples.length / batchSize);
    return { algorithm, ...common, batchSize, groupSize, epochs: Math.ceil(steps / perEpoch) };
  }
  // PPO samples one answer per prompt: it sees as many answers per step as GRPO with four times the prompts
  // of half the group, and makes two passes of two mini-batches over them, at a lower learning rate.
  const ppoBatch = batchSize * Math.max(1, Math.floor(groupSize / 2));
  const perEpoch = Math.ceil(samples.length / ppoBatch);
  return {
    algorithm,
    ...common,
    batchSize: ppoBatch,
    groupSize: 1,
    ppoEpochs: 2,
    learningRate: settings.learningRate * PPO_LEARNING_RATE_FACTOR,
    miniBatchSize: ppoBatch % 2 === 0 ? ppoBatch / 2 : ppoBatch,
    epochs: Math.ceil(steps / perEpoch),
  };
}

/**
 * Trains `policy` in place with GRPO or PPO inside the travel agent's own loop: every step the trainer serves
 * the policy through an in-process gateway, runs the agent (the `openai`-SDK code of the capture phase) on the
 * step's requests and learns from its scored episodes.
 */
export async function trainWithRl(input: RlTrainingInput): Promise<RlTrainingOutput> {
  let stepMs = 0;
  const config = rlConfig(input);
  const trainer = new VeRLTrainer({
    policy: input.policy,
    config,
    rewards: [VERIFIER_REWARD],
    agent: TRAVEL_AGENT,
    agentOptions: AGENT_OPTIONS,
    callbacks: input.callbacks ?? [],
    ...(input.metricsLogPath === undefined ? {} : { metricsLogPath: input.metricsLogPath }),
    onStep: (event) => {
      stepMs += event.metrics.extra?.["timing/step_ms"] ?? 0;
    },
  });
  try {
    const metrics = await trainer.train([...input.samples]);
    const steps = metrics.steps ?? trainer.progress.step;
    return {
      meanStepMs: steps > 0 ? stepMs / steps : 0,
      steps,
      batchSize: trainer.config.batchSize,
      groupSize: trainer.config.groupSize,
    };
  } finally {
    await trainer.dispose();
  }
}
