import { InvalidArgumentError } from "@orbiter/types";
import { VeRLConfig } from "@orbiter/verl";

/** One Hydra override of `run_verl.sh`: a verl config key and its value as Hydra reads it. */
export interface VerlOverride {
  /** Dotted verl config key, e.g. `actor_rollout_ref.actor.clip_ratio_low`. */
  key: string;
  /** The value: a number, a boolean, a string, a list of strings, or a path inside the job folder. */
  value: number | boolean | string | string[] | { jobPath: string };
  /** The VeRLConfig field (or job option) it comes from. */
  from: string;
}

/**
 * VeRLConfig fields that concern only training on this machine and are not part of a verl job: the tensor
 * backend, local worker threads, the sizes of the local TensorFlow.js policy (the job trains the `model` given to
 * `exportVerlJob`), the local checkpoint folder (verl writes under `trainer.default_local_dir`), the weight of the
 * local policy's value loss (verl trains a separate critic with its own optimiser), the threshold of the local
 * evaluation's accuracy and the carrying of Adam moments saved with the local policy.
 */
export const LOCAL_ONLY_SETTINGS = {
  backend: "the tensor backend of this machine",
  workers: "worker threads of this machine",
  model: "sizes of the local TensorFlow.js policy; the job trains the model passed as `model`",
  checkpointDir: "the local checkpoint folder; verl saves under trainer.default_local_dir",
  vfCoef: "weight of the local policy's value loss; verl trains a separate critic (critic.optim)",
  accuracyThreshold: "what the local evaluation counts as correct",
  carryOptimizerState:
    "Adam moments saved with the local policy; verl's actor starts its optimiser fresh from the model at model.path",
} as const;

/** VeRLConfig fields that become Hydra overrides. */
const MAPPED = new Set([
  "algorithm",
  "epochs",
  "batchSize",
  "learningRate",
  "warmupSteps",
  "criticWarmupSteps",
  "evalEvery",
  "seed",
  "maxSteps",
  "gradClip",
  "lrSchedule",
  "minLearningRate",
  "klCoef",
  "klEstimator",
  "klPlacement",
  "adaptiveKl",
  "clipRange",
  "clipRangeLow",
  "clipRangeHigh",
  "dualClip",
  "groupSize",
  "ppoEpochs",
  "miniBatchSize",
  "microBatchSize",
  "gamma",
  "lambda",
  "valueClip",
  "entropyCoef",
  "lossAggregation",
  "advantageEstimator",
  "normalizeAdvantageStd",
  "maxNewTokens",
  "temperature",
  "topK",
  "topP",
  "saveEvery",
  "onRewardError",
]);

/**
 * A neutral-only field: the one value verl runs, values that resolve to it (`same`), why, and (`when`) the configs
 * whose training the field affects; elsewhere any value is accepted.
 */
interface NeutralSetting {
  value: unknown;
  same?: unknown[];
  why: string;
  when?: (config: VeRLConfig) => boolean;
}

/**
 * Fields verl 0.7 has no setting for, with the one value at which our trainer does what verl does (and, in
 * `same`, values that resolve to it in a handed-off job). Any other value is refused rather than dropped.
 */
const NEUTRAL: Record<string, NeutralSetting> = {
  filterZeroStdGroups: {
    value: false,
    why: "verl's trainer has no zero-variance group filter (it is in the DAPO recipe)",
  },
  maskTruncated: { value: false, why: "verl's trainer has no masking of truncated responses" },
  overlongPenalty: {
    value: null,
    why: "verl's trainer has no overlong penalty (it is in the DAPO recipe's reward manager)",
  },
  advantageEpsilon: { value: 1e-6, why: "verl fixes the group-std epsilon at 1e-6" },
  desiredKl: {
    value: null,
    why: "verl's actor trains at its configured learning-rate schedule and has no KL-adaptive rate (rsl_rl's desired_kl) nor a target_kl stop",
  },
  whitenAdvantages: {
    value: true,
    // "auto" whitens with a fresh Adam, and verl's actor starts its optimiser fresh from the model.
    same: ["auto"],
    // Only the "gae" estimator reads it (ours and verl's): elsewhere any value trains as verl does.
    when: (config) => config.advantageEstimator === "gae",
    why: "verl always whitens GAE advantages over the batch (compute_gae_advantage_return ends in masked_whiten)",
  },
  adamEpsilon: {
    value: 1e-8,
    why: "verl 0.7 has no optim key for Adam's eps: its actor and critic optimisers keep torch's 1e-8",
  },
  critic: {
    value: "detached",
    // "auto" is detached on a policy the trainer is given, and a verl job always trains the model it is given.
    same: ["auto"],
    why: "verl trains a separate critic model (critic.model.path, its own optimiser) whose gradients never reach the actor, as our detached value head's do not; a value loss that trains the actor's trunk (\"shared\") has no verl counterpart",
  },
  rewardCombination: {
    value: "weighted-sum",
    why: "the reward server sums the rewards by weight; verl cannot z-score them per group",
  },
};

/** What classifies every VeRLConfig field: mapped, local only, neutral only. Unknown fields fall through. */
export function classifySetting(field: string): "mapped" | "local" | "neutral" | "unknown" {
  if (MAPPED.has(field)) return "mapped";
  if (Object.hasOwn(LOCAL_ONLY_SETTINGS, field)) return "local";
  if (Object.hasOwn(NEUTRAL, field)) return "neutral";
  return "unknown";
}

function refuse(field: string, value: unknown, why: string): never {
  throw new InvalidArgumentError(
    `config.${field} = ${JSON.stringify(value)} cannot be handed to verl: ${why}. Remove it (or use the value our trainer shares with verl) to export the job`,
    { field: `config.${field}`, value },
  );
}

/** A parsed VeRLConfig as a plain record (the parsed type is a closed object; the checks are per field). */
type ConfigRecord = Record<string, unknown>;

/**
 * Refuses every setting of `config` that verl cannot run as given, naming the field: neutral-only fields away
 * from their neutral value, a disabled dual clip or value clip, an adaptive KL controller on a KL loss, and any
 * field this mapping does not know that differs from its default.
 */
export function checkVerlSettings(config: VeRLConfig): void {
  const record = config as unknown as ConfigRecord;
  const defaults = VeRLConfig.parse({ algorithm: config.algorithm }) as unknown as ConfigRecord;
  for (const [field, value] of Object.entries(record)) {
    const kind = classifySetting(field);
    if (kind === "neutral") {
      const neutral = NEUTRAL[field] as NeutralSetting;
      if (neutral.when !== undefined && !neutral.when(config)) continue;
      const accepted = [neutral.value, ...(neutral.same ?? [])].map((one) => JSON.stringify(one));
      if (!accepted.includes(JSON.stringify(value))) refuse(field, value, neutral.why);
    } else if (kind === "unknown" && JSON.stringify(value) !== JSON.stringify(defaults[field])) {
      refuse(field, value, `@orbiter/handoff has no verl mapping for "${field}"`);
    }
  }
  if (config.onRewardError === "skip") {
    refuse(
      "onRewardError",
      "skip",
      'a verl reward function must return a score for every response, so a failing one cannot leave it out; use "throw" or "zero"',
    );
  }
  if (config.dualClip === null) {
    refuse(
      "dualClip",
      null,
      "verl always applies the dual clip (clip_ratio_c > 1); give it a number, e.g. 3",
    );
  }
  if (config.advantageEstimator === "gae" && config.valueClip === null) {
    refuse(
      "valueClip",
      null,
      "verl's critic always clips its value (critic.cliprange_value); give it a number",
    );
  }
  if (config.adaptiveKl !== null && config.klPlacement === "loss") {
    refuse(
      "adaptiveKl",
      config.adaptiveKl,
      'verl adapts the KL coefficient only for a KL penalty in the reward; use klPlacement "reward" or a fixed klCoef',
    );
  }
  if (config.groupSize > 1 && config.miniBatchSize % config.groupSize !== 0) {
    refuse(
      "miniBatchSize",
      config.miniBatchSize,
      `verl counts mini-batches in prompts, so miniBatchSize must be a multiple of groupSize (${config.groupSize})`,
    );
  }
}
