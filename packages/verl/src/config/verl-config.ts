import { trainConfigShape } from "@orbiter/trainer-core";
import { z } from "zod";
import { KlEstimator } from "../algorithms/kl-estimators.js";
import { LossAggregation } from "../algorithms/loss-aggregation.js";
import { TransformerConfig, type TransformerConfigInput } from "../model/transformer-config.js";
import { OnRewardError, RewardCombination } from "../rewards/reward-combination.js";
import { CriticMode } from "./critic-mode.js";
import { AdvantageEstimator, KlPlacement, VeRLAlgorithm } from "./verl-algorithm.js";

const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().nonnegative();
const probability = z.number().min(0).max(1);
const values = <T extends Record<string, string>>(object: T) =>
  Object.values(object) as [T[keyof T], ...T[keyof T][]];

/** Default learning-rate warm-up of RL runs, in training steps (see `VeRLConfig.warmupSteps`). */
export const RL_WARMUP_STEPS = 10;

/** Defaults that depend on the algorithm; every other field has a single default. */
export const ALGORITHM_DEFAULTS = {
  ppo: {
    learningRate: 1e-4,
    klCoef: 0.05,
    groupSize: 1,
    ppoEpochs: 2,
    advantageEstimator: "gae",
    klEstimator: "k1",
    klPlacement: "reward",
  },
  grpo: {
    learningRate: 1e-4,
    klCoef: 0.04,
    groupSize: 8,
    ppoEpochs: 1,
    advantageEstimator: "grpo",
    klEstimator: "k3",
    klPlacement: "loss",
  },
} as const satisfies Record<
  VeRLAlgorithm,
  {
    learningRate: number;
    klCoef: number;
    groupSize: number;
    ppoEpochs: number;
    advantageEstimator: AdvantageEstimator;
    klEstimator: KlEstimator;
    klPlacement: KlPlacement;
  }
>;

/** Settings of the adaptive KL controller (Ziegler et al.). */
export const AdaptiveKlConfig = z.strictObject({
  /** KL the controller steers towards (batch mean of the per-response mean KL). */
  target: z.number().positive(),
  /** Responses it takes to move β by the full proportional error. @default 10000 */
  horizon: z.number().positive().default(10_000),
});

const verlConfigShape = {
  /** PPO (critic + GAE) or GRPO (groups, no critic). @default "ppo" */
  algorithm: z.enum(values(VeRLAlgorithm)).default("ppo"),
  ...trainConfigShape,
  /** Prompts per training step (each sampled `groupSize` times). @default 8 */
  batchSize: positiveInt.default(8),
  /**
   * Steps of linear learning-rate warm-up (step 0 trains at `learningRate / warmupSteps`). RL usually starts from
   * a fine-tuned policy with a fresh Adam, whose first updates move every weight by the full learning rate
   * (the bias-corrected `m̂ / √v̂` is ±1 while the moments hold one gradient, whatever the gradient's size, so
   * neither gradient clipping nor the KL term — whose gradient is 0 at the reference — holds it back): 3–4× the
   * steady-state step, enough at 1e-3 to undo a warm start. Ten steps cover Adam's first-moment horizon
   * `1 / (1 − β1)`; 0 turns the warm-up off. (trainer-core's `TrainConfig` keeps 0.)
   * @default 10
   */
  warmupSteps: nonNegativeInt.default(RL_WARMUP_STEPS),
  /**
   * Shape of the learning rate over the run. The cosine decays from the peak after the warm-up to
   * `minLearningRate` at the last step, so the noisy late updates of a high rate settle instead of walking the
   * policy away. (trainer-core's `TrainConfig` defaults to `"linear-warmup"`, a constant rate after warm-up.)
   * @default "cosine"
   */
  lrSchedule: trainConfigShape.lrSchedule.unwrap().default("cosine"),
  /** Peak Adam learning rate. @default 1e-4 (both algorithms) */
  learningRate: z.number().positive().optional(),
  /**
   * Adam's ε, added to √v̂ in the update `lr · m̂ / (√v̂ + ε)` (PyTorch's `eps`, TRL/transformers'
   * `adam_epsilon`, verl's `optim.eps`). With the usual 1e-8 the step is ≈ `lr` per weight whatever the
   * gradient's size; an ε comparable to the gradients' RMS makes weights with small gradients take smaller steps
   * (the update tends to `lr · m̂ / ε` below it), so a batch with little signal moves the policy less.
   * @default 1e-8
   */
  adamEpsilon: z.number().positive().default(1e-8),
  /**
   * Start Adam from the moments the policy was trained with, when they came with it (`policy.optimizerState`:
   * `TransformerPolicy.load` of a checkpoint that holds an `optimizer.safetensors`, as `saveCheckpoint` with an
   * optimiser writes), instead of zeros. A fresh Adam divides each gradient by its own running size, so every
   * step moves every weight by about the learning rate whatever the batch's signal (its first step is a sign
   * step); the warm start's second moment divides RL's gradients by the size the fine-tuning's gradients had, so
   * a batch with little signal takes a small step at the same learning rate (the moments carry over as a resumed
   * run's do). With `"auto"` advantage scaling, carried moments also turn off the division by the group std and
   * the GAE whitening (`normalizeAdvantageStd`, `whitenAdvantages`). The learning rate is the user's; the step is
   * smaller than a fresh Adam's when the gradients are small next to the fine-tuning's. A policy without saved
   * moments trains with a fresh Adam either way; the trainer's `optimizerState` option is always used when given.
   * @default true
   */
  carryOptimizerState: z.boolean().default(true),
  /** Clip the global gradient norm to this value. @default 1 */
  gradClip: z.number().positive().default(1),
  /** KL coefficient β (initial β with `adaptiveKl`). @default 0.05 for PPO, 0.04 for GRPO */
  klCoef: z.number().nonnegative().optional(),
  /** KL estimator. @default "k1" for PPO (KL in the reward), "k3" for GRPO (KL in the loss) */
  klEstimator: z.enum(values(KlEstimator)).optional(),
  /**
   * Where the KL penalty goes (see {@link KlPlacement}); with `reward` the outcome estimators see score − β·Σ_t KL_t,
   * per episode in agent mode. @default "reward" for PPO, "loss" for GRPO
   */
  klPlacement: z.enum(values(KlPlacement)).optional(),
  /** Adapt β towards a KL target; `null` keeps β fixed. @default null */
  adaptiveKl: AdaptiveKlConfig.nullable().default(null),
  /**
   * A trust region in policy space: the per-step KL the learning rate is steered to, rsl_rl's and rl_games' PPO
   * `desired_kl` (`schedule="adaptive"`). After each step one forward pass (no gradient) over the step's rollout
   * measures how far the step moved the policy, KL(π_old ‖ π_new) by the k3 estimator (`actor/step_kl`); above
   * twice the target the rate of the following steps is divided by 1.5, below half of it multiplied by 1.5, never
   * above the configured `learningRate` and schedule (warm-up and decay keep their shape: the controller scales
   * them by a factor in [0.001, 1], logged as `actor/lr_scale`; `actor/lr` is the rate actually used). So a high
   * `learningRate` on batches with little signal is held to the step size the target allows, and `learningRate`
   * is the ceiling, not the rate. Within a step of several updates (PPO's epochs and mini-batches), the remaining
   * updates are dropped once a mini-batch's forward pass finds the policy already more than 1.5 × `desiredKl`
   * from the rollout's, SB3's `target_kl` stop (`actor/kl_stopped_updates`; never the first update, which sees
   * the rollout's own policy). It reads SB3's non-negative estimate, the k3 mean of (ρ − 1) − log ρ logged as
   * `actor/approx_kl`, not the signed k1 of `actor/ppo_kl`, which can sit at 0 or below while the policy moves
   * far (raising the sampled tokens' log-probabilities makes it negative); and a step whose
   * measured KL is above twice the target is taken back along its own direction to the share √(2·target / KL)
   * that brings it to about that bound (TRPO's backtracking, one measured shrink; `actor/step_kept`), so the
   * steps before the rate has adapted, the warm-up's first ones included, are bounded too. `null` trains at
   * the schedule. The target belongs to the start, not to the library: on the travel demo's rotary SFT checkpoint
   * (83% held-out, entropy 0.03 nats per token) runs at 1e-4 moved the policy 1e-5 to 8e-5 per step and kept it,
   * runs at 1e-3 moved it 2e-3 to 1e-2 and lost 15 to 25 points, and 2e-5 held 1e-3 runs near the start; an
   * addition policy after SFT (sampled reward 0.23, entropy 0.9) learns at 3e-4 with steps of 6e-3 to 4e-2, and
   * 2e-5 all but stopped it. Read `actor/step_kl` of a run at a rate that keeps the start, and set about that.
   * @default null
   */
  desiredKl: z.number().positive().nullable().default(null),
  /** Clip ε of the PPO ratio, used for both sides unless `clipRangeLow`/`clipRangeHigh` are set. @default 0.2 */
  clipRange: z.number().positive().max(10).default(0.2),
  /** Lower clip ε_low (ratio ≥ 1 − ε_low). @default clipRange */
  clipRangeLow: z.number().positive().max(1).optional(),
  /** Upper clip ε_high, e.g. 0.28 for DAPO's clip-higher. @default clipRange */
  clipRangeHigh: z.number().positive().max(10).optional(),
  /** Dual-clip constant c > 1 for negative advantages; `null` turns it off. @default 3 (verl `clip_ratio_c`) */
  dualClip: z.number().gt(1).nullable().default(3),
  /** Responses sampled per prompt. @default 1 for PPO, 8 for GRPO */
  groupSize: positiveInt.optional(),
  /** Passes over each rollout batch. @default 2 for PPO, 1 for GRPO */
  ppoEpochs: positiveInt.optional(),
  /** Responses per mini-batch (one optimiser step each); must divide batchSize × groupSize. @default all of them */
  miniBatchSize: positiveInt.optional(),
  /**
   * Responses per forward/backward pass inside a mini-batch (gradient accumulation, verl
   * `ppo_micro_batch_size`): bounds memory without changing the objective, since each micro-batch's loss is
   * weighted by its share of the mini-batch's tokens (or sequences) before the gradients are summed.
   * @default miniBatchSize
   */
  microBatchSize: positiveInt.optional(),
  /** Discount γ for GAE and REINFORCE++. @default 1 */
  gamma: probability.default(1),
  /** GAE λ. @default 0.95 */
  lambda: probability.default(0.95),
  /** Value-loss clip ε_v; `null` disables it. @default 0.2 */
  valueClip: z.number().positive().nullable().default(0.2),
  /**
   * How PPO's critic (the value head on the policy's trunk) learns. `"detached"`: the head reads the trunk's
   * features under stop-gradient, so the value loss trains the head alone (a linear probe of the policy's own
   * features) and never the weights the policy's log-probabilities depend on, as with verl's and TRL's separate
   * critic, whose gradients never reach the actor. `"shared"`: the value loss (times `vfCoef`) also trains the
   * shared trunk, as in a one-network actor-critic. `"auto"`: `"shared"` when the trainer builds its own fresh
   * policy (no `policy` given, no checkpoint resumed), `"detached"` when it trains a policy it was given or
   * resumed. From a warm start the value head is new, and shared, its loss sends large gradients into the
   * fine-tuned trunk (`packages/verl/README.md`, "From a warm start"); from scratch there is nothing to protect,
   * and the detached head alone learns too slowly (the README's "The critic of a fresh policy"). The trainer
   * resolves `"auto"` when training starts, and `trainer.config.critic` then reads the mode in use. Only
   * estimators with a critic (`"gae"`) use it.
   * @default "auto"
   */
  critic: z.enum(values(CriticMode)).default("auto"),
  /**
   * Training steps at the start of a run in which only the critic (the value head) learns, verl's
   * `trainer.critic_warmup`: the value loss is optimised and the policy's parameters, the shared trunk included,
   * and their Adam moments stay exactly as they were. A fresh value head makes the first GAE advantages mostly
   * critic error, which would push a fine-tuned policy in noise directions. The critic-only steps train at the
   * peak `learningRate`; the policy's warm-up and cosine schedule start after them (as verl's actor scheduler
   * only steps with actor updates), so `warmupSteps` and the decay count policy steps. Only estimators with a
   * critic (`"gae"`) use it; GRPO, RLOO and REINFORCE++ ignore it. Metrics mark the steps: `critic/warmup` 1/0.
   * Adam's step count (its bias correction) is shared, so the policy's first updates after the warm-up are
   * somewhat smaller than a fresh optimiser's. Off by default: on the travel demo (20 PPO steps from its SFT
   * checkpoint, two seeds) 5 and 10 warm-up steps did not keep PPO at or above the warm start any better than 0
   * (`apps/examples/README.md`, "Experiment").
   * @default 0
   */
  criticWarmupSteps: nonNegativeInt.default(0),
  /** Weight of the value loss in the total loss. @default 0.5 */
  vfCoef: z.number().nonnegative().default(0.5),
  /** Weight of the entropy bonus (subtracted from the loss). @default 0 */
  entropyCoef: z.number().nonnegative().default(0),
  /** How per-token losses are reduced. @default "token-mean" */
  lossAggregation: z.enum(values(LossAggregation)).default("token-mean"),
  /** Advantage estimator. @default "gae" for PPO, "grpo" for GRPO */
  advantageEstimator: z.enum(values(AdvantageEstimator)).optional(),
  /**
   * Divide each group's advantages by the group's std (GRPO); `false` is Dr. GRPO (Liu et al., "Understanding
   * R1-Zero-like training": verl `norm_adv_by_std_in_grpo`, TRL `scale_rewards`), whose advantages keep the size
   * of the reward differences. `"auto"`: `true` when Adam starts fresh, `false` when it starts from carried
   * moments (`carryOptimizerState`, or the trainer's `optimizerState`), where the advantages' size reaches the
   * step: a group of 7 right answers and 1 wrong has a std of 0.35, and dividing by it would push such a batch as
   * hard as one full of signal. Resolved when training starts; `trainer.config.normalizeAdvantageStd` then reads
   * the value in use.
   * @default "auto"
   */
  normalizeAdvantageStd: z.union([z.boolean(), z.literal("auto")]).default("auto"),
  /**
   * Whiten GAE advantages over the valid tokens of each batch (subtract the mean, divide by the standard
   * deviation), as verl always does and TRL's PPO does. Whitening gives the advantages unit scale whatever the
   * batch's signal: a batch of near-equal returns pushes the policy as hard as one with large differences (the
   * GAE analogue of GRPO's division by the group std). `false` keeps the raw GAE advantages, whose size follows
   * the rewards and the critic's error. `"auto"`: `true` when Adam starts fresh, `false` when it starts from
   * carried moments (as `normalizeAdvantageStd`). Only the `"gae"` estimator uses it; the value targets are never
   * whitened. Resolved when training starts.
   * @default "auto"
   */
  whitenAdvantages: z.union([z.boolean(), z.literal("auto")]).default("auto"),
  /**
   * Leave out of the update every prompt group whose responses all got the same total reward (DAPO's dynamic
   * sampling without the re-generation: such groups carry no group-relative signal, and dropping them gives the
   * informative groups the whole token-mean). Needs `groupSize` > 1.
   * @default false
   */
  filterZeroStdGroups: z.boolean().default(false),
  /**
   * Leave responses cut at `maxNewTokens` (no end-of-sequence token) out of the loss, after the advantages are
   * computed (DAPO's overlong filtering, TRL `mask_truncated_completions`).
   * @default false
   */
  maskTruncated: z.boolean().default(false),
  /**
   * DAPO's soft overlong punishment added to the score the advantages see: 0 up to `maxNewTokens − bufferLength`
   * tokens, then a linear ramp down to −factor at `maxNewTokens`. `null` turns it off.
   * @default null
   */
  overlongPenalty: z
    .strictObject({
      /** Length of the ramp, in tokens (at most `maxNewTokens`). */
      bufferLength: positiveInt,
      /** Penalty at `maxNewTokens`. @default 1 */
      factor: z.number().nonnegative().default(1),
    })
    .nullable()
    .default(null),
  /** ε added to the group std. @default 1e-6 (verl) */
  advantageEpsilon: z.number().positive().default(1e-6),
  /** How several rewards combine into one score. @default "weighted-sum" */
  rewardCombination: z.enum(values(RewardCombination)).default("weighted-sum"),
  /**
   * What a reward function that throws or returns a non-finite value does: stop with a `RewardError`
   * (`"throw"`), count as 0 (`"zero"`) or leave the response out of the update (`"skip"`). @default "throw"
   */
  onRewardError: z.enum(values(OnRewardError)).default("throw"),
  /** Total reward at or above which an evaluated response counts as correct (when the sample has no expected output). @default 1 */
  accuracyThreshold: z.number().default(1),
  /** New tokens sampled per response. @default 32 */
  maxNewTokens: positiveInt.default(32),
  /** Sampling temperature; log-probabilities are taken at the same temperature. @default 1 */
  temperature: z.number().positive().default(1),
  /** Sample only among the k most likely tokens; 0 disables. @default 0 */
  topK: nonNegativeInt.default(0),
  /** Nucleus sampling mass; 1 disables. @default 1 */
  topP: z.number().gt(0).max(1).default(1),
  /** Write a checkpoint every this many steps; 0 never. Needs `checkpointDir`. @default 0 */
  saveEvery: nonNegativeInt.default(0),
  /** Folder of the checkpoints. @default undefined */
  checkpointDir: z.string().min(1).optional(),
  /**
   * Sizes of the default transformer policy built when no policy is given (see `TransformerConfig`). The vocabulary
   * comes from the tokenizer, the value head follows the algorithm, and the context length defaults to 64 or to the
   * longest prompt plus `maxNewTokens` when that is longer.
   * @default {} (the reference workload's sizes)
   */
  model: z
    .custom<TransformerConfigInput>(
      (value) => value !== null && typeof value === "object" && !Array.isArray(value),
      {
        message: "Expected an object of model sizes",
      },
    )
    .optional(),
  /** Tensor backend. @default "auto" (tensorflow, then wasm, then cpu) */
  backend: z.enum(["auto", "tensorflow", "wasm", "cpu"]).default("auto"),
  /**
   * Threads that share each training step (data-parallel): the trainer's own thread plus `workers − 1` worker
   * threads, each with a replica of the policy on its own backend. Rollout rows, reference log-probabilities and
   * each mini-batch's gradients are split across them; the optimiser step is applied once. `"auto"` takes the
   * available cores (`os.availableParallelism()`), capped by the responses per step, and 1 for a policy that is
   * not a `TransformerPolicy`, on the native `tensorflow` backend (its kernels already use every core), or for a
   * step too small to gain (parameters × responses under 4 M, e.g. test-sized models); 1 runs everything on the
   * trainer's thread. Results are bit-identical run after run
   * for a given count, and equal within float tolerance across counts.
   * @default "auto"
   */
  workers: z.union([z.literal("auto"), positiveInt]).default("auto"),
};

function resolve(input: z.output<z.ZodObject<typeof verlConfigShape>>, context: z.RefinementCtx) {
  const defaults = ALGORITHM_DEFAULTS[input.algorithm];
  const resolved = {
    ...input,
    learningRate: input.learningRate ?? defaults.learningRate,
    klCoef: input.klCoef ?? defaults.klCoef,
    klEstimator: input.klEstimator ?? defaults.klEstimator,
    klPlacement: input.klPlacement ?? defaults.klPlacement,
    groupSize: input.groupSize ?? defaults.groupSize,
    ppoEpochs: input.ppoEpochs ?? defaults.ppoEpochs,
    advantageEstimator: input.advantageEstimator ?? defaults.advantageEstimator,
    clipRangeLow: input.clipRangeLow ?? Math.min(input.clipRange, 1),
    clipRangeHigh: input.clipRangeHigh ?? input.clipRange,
  };
  if (input.model !== undefined) {
    const model = TransformerConfig.safeParse(input.model);
    if (!model.success) {
      for (const issue of model.error.issues) {
        const path = [...issue.path];
        if (issue.code === "unrecognized_keys" && issue.keys.length > 0) path.push(issue.keys[0] as string);
        context.addIssue({ code: "custom", path: ["model", ...path], message: issue.message });
      }
    }
  }
  if (resolved.overlongPenalty !== null && resolved.overlongPenalty.bufferLength > resolved.maxNewTokens) {
    context.addIssue({
      code: "custom",
      path: ["overlongPenalty", "bufferLength"],
      message: `bufferLength must not exceed maxNewTokens (${resolved.maxNewTokens})`,
    });
  }
  if (
    resolved.rewardCombination === "normalize-then-sum" &&
    resolved.advantageEstimator === "grpo" &&
    resolved.klPlacement === "reward" &&
    resolved.klCoef > 0
  ) {
    // The normalised sums are the advantages already: there is no reward left for the penalty to enter.
    context.addIssue({
      code: "custom",
      path: ["klPlacement"],
      message: 'klPlacement "reward" cannot enter normalize-then-sum GRPO advantages; use "loss"',
    });
  }
  const responses = resolved.batchSize * resolved.groupSize;
  const miniBatchSize = resolved.miniBatchSize ?? responses;
  if (resolved.advantageEstimator === "gae" && resolved.algorithm !== "ppo") {
    context.addIssue({
      code: "custom",
      path: ["advantageEstimator"],
      message: 'The "gae" estimator needs a critic: use algorithm "ppo"',
    });
  }
  if (miniBatchSize > responses || responses % miniBatchSize !== 0) {
    context.addIssue({
      code: "custom",
      path: ["miniBatchSize"],
      message: `miniBatchSize (${miniBatchSize}) must divide batchSize × groupSize (${responses})`,
    });
  }
  if (resolved.saveEvery > 0 && resolved.checkpointDir === undefined) {
    context.addIssue({
      code: "custom",
      path: ["checkpointDir"],
      message: "saveEvery > 0 needs a checkpointDir",
    });
  }
  const microBatchSize = Math.min(resolved.microBatchSize ?? miniBatchSize, miniBatchSize);
  return { ...resolved, miniBatchSize, microBatchSize };
}

/**
 * Configuration of a {@link VeRLTrainer}: algorithm, batch and group sizes, clipping, KL, sampling, rewards and
 * checkpoints, the knobs verl and TRL users rely on.
 * Options left out take the defaults of the chosen algorithm (see `ALGORITHM_DEFAULTS`); unknown keys are
 * rejected. Parse it with `parseWith(VeRLConfig, input, { what: "VeRLConfig", path: "config" })`.
 *
 * @example
 * ```ts
 * const config = VeRLConfig.parse({ algorithm: VeRLAlgorithm.GRPO, batchSize: 8, groupSize: 8, klCoef: 0.04 });
 * config.advantageEstimator; // "grpo"
 * ```
 */
export const VeRLConfig = z.strictObject(verlConfigShape).transform(resolve);

/** A parsed {@link VeRLConfig}: every default (including the algorithm's) filled in. */
export type VeRLConfig = z.output<typeof VeRLConfig>;
/** What the trainer accepts: any subset of the options. */
export type VeRLConfigInput = z.input<typeof VeRLConfig>;
