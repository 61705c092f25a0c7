/**
 * The reinforcement-learning algorithm a {@link VeRLTrainer} runs:
 * - `ppo`: Proximal Policy Optimization with a value head (critic) and GAE advantages.
 * - `grpo`: Group Relative Policy Optimization: several samples per prompt, group-normalised rewards, no critic.
 */
export const VeRLAlgorithm = {
  /** Proximal Policy Optimization. */
  PPO: "ppo",
  /** Group Relative Policy Optimization. */
  GRPO: "grpo",
} as const;

/** One of the {@link VeRLAlgorithm} values. */
export type VeRLAlgorithm = (typeof VeRLAlgorithm)[keyof typeof VeRLAlgorithm];

/**
 * How advantages are estimated.
 * - `gae`: generalised advantage estimation from the critic (PPO only).
 * - `grpo`: group-normalised outcome reward (see `normalizeAdvantageStd` for Dr. GRPO).
 * - `rloo`: leave-one-out group baseline.
 * - `reinforce++`: discounted token returns whitened over the batch.
 * - `reinforce++-baseline`: group-mean baseline, then whitened over the batch.
 */
export const AdvantageEstimator = {
  GAE: "gae",
  GRPO: "grpo",
  RLOO: "rloo",
  REINFORCE_PLUS_PLUS: "reinforce++",
  REINFORCE_PLUS_PLUS_BASELINE: "reinforce++-baseline",
} as const;

/** One of the {@link AdvantageEstimator} values. */
export type AdvantageEstimator = (typeof AdvantageEstimator)[keyof typeof AdvantageEstimator];

/**
 * Where the KL penalty to the reference model goes.
 * - `loss`: β·agg(KL) is added to the actor loss (GRPO, verl `use_kl_loss`).
 * - `reward`: −β·KL is added to every token's reward before the advantages (classic PPO, verl `use_kl_in_reward`).
 *   Outcome estimators (GRPO, RLOO, REINFORCE++ baseline) see score − β·Σ_t KL_t of each response; in agent mode
 *   GRPO normalises score − β·Σ_t KL_t of each episode (over all its rows' loss tokens, i.e. the policy's own
 *   tokens). Refused (InvalidArgumentError) with `rewardCombination: "normalize-then-sum"` and GRPO, whose scores
 *   are already advantages.
 */
export const KlPlacement = { LOSS: "loss", REWARD: "reward" } as const;

/** One of the {@link KlPlacement} values. */
export type KlPlacement = (typeof KlPlacement)[keyof typeof KlPlacement];
