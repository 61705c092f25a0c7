import type { TrainerCallbacks } from "@orbiter/trainer-core";
import type { Sample } from "@orbiter/types";
import { type Policy, type VeRLConfigInput, VeRLTrainer } from "@orbiter/verl";
import type { RlSettings } from "./demo-results.js";
import { AGENT_OPTIONS, MAX_TURN_TOKENS, TRAVEL_AGENT, VERIFIER_REWARD } from "./evaluation.js";

/**
 * RL settings for the demo's default policy (rotary positions), used when no evolution result is available and as
 * the first candidate of the search. Its SFT warm start already reaches about 83% held-out success and solves every
 * training request greedily, so a step's episodes carry little signal (92% of sampled training episodes are
 * already right), and Adam moves every weight by about the learning rate whatever the gradient's size: a high rate
 * is a walk away from the warm start. Measured from that warm start (GRPO, 40 steps, change in held-out test
 * points): 5e-4 -9.5 (the training reward itself fell from 0.90 to 0.74); 2e-4 -1.1; 1e-4 -1.1, -1.1 and 0.0
 * (three runs); 5e-5 0.0 and 0.0 (RL seeds 7 and 8, the greedy episodes unchanged). See apps/examples/README.md,
 * "What limits RL here".
 */
export const DEFAULT_RL_SETTINGS: RlSettings = { learningRate: 5e-5, klCoef: 0.01, temperature: 1 };

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

/** How PPO's run differs from the tuned (GRPO) settings. */
export interface PpoRecipe {
  /** PPO's learning rate as a fraction of the tuned one. */
  learningRateFactor: number;
  /** First steps that train the critic (the value head) alone (`VeRLConfig.criticWarmupSteps`). */
  criticWarmupSteps: number;
}

/**
 * PPO for the default policy (rotary positions): the tuned learning rate, and the first 5 of its steps train the
 * critic alone. The critic is detached from the policy's trunk (`VeRLConfig.critic`), but a new value head still
 * makes the first GAE advantages mostly its own error, and from an 83% warm start that noise is all PPO learns
 * from: 20 steps at 5e-5 ended at -3.2 held-out points without the warm-up and +1.1 with it (RL seed 7).
 */
export const DEFAULT_PPO_RECIPE: PpoRecipe = { learningRateFactor: 1, criticWarmupSteps: 5 };

/**
 * PPO for a policy with learned positions only: half the tuned learning rate, no critic warm-up (measured on that
 * warm start, before the critic was detached: -8 held-out points at 1x, +20 at 0.5x; a critic warm-up of 5 or 10
 * steps did not help).
 */
export const LEARNED_POSITIONS_PPO_RECIPE: PpoRecipe = { learningRateFactor: 0.5, criticWarmupSteps: 0 };

/** The PPO recipe for a policy with or without rotary positions. */
export function ppoRecipe(rotary: boolean): PpoRecipe {
  return { ...(rotary ? DEFAULT_PPO_RECIPE : LEARNED_POSITIONS_PPO_RECIPE) };
}

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
  /** How PPO departs from `settings`. @default {@link DEFAULT_PPO_RECIPE} */
  ppo?: PpoRecipe;
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
  // of half the group, and makes two passes of two mini-batches over them, with the recipe's learning rate and
  // critic warm-up. The critic is detached, as "auto" would resolve it on this warm start, but named: the recipe
  // was measured with it.
  const recipe = input.ppo ?? DEFAULT_PPO_RECIPE;
  const ppoBatch = batchSize * Math.max(1, Math.floor(groupSize / 2));
  const perEpoch = Math.ceil(samples.length / ppoBatch);
  return {
    algorithm,
    ...common,
    batchSize: ppoBatch,
    groupSize: 1,
    ppoEpochs: 2,
    learningRate: settings.learningRate * recipe.learningRateFactor,
    criticWarmupSteps: recipe.criticWarmupSteps,
    critic: "detached",
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
