/**
 * How several reward functions are combined into one score per response.
 * - `weighted-sum`: s = Σ_k w_k·r_k over the rewards that did not abstain (TRL's default `nansum`).
 * - `normalize-then-sum`: each reward is z-scored within its prompt group (ε 1e-4), the z-scores are
 *   weighted and summed, and the sum is z-scored over the batch (TRL `multi_objective_aggregation`, GDPO).
 *   Only meaningful for group advantages; the logged `reward/mean` stays the raw weighted sum.
 */
export const RewardCombination = {
  WEIGHTED_SUM: "weighted-sum",
  NORMALIZE_THEN_SUM: "normalize-then-sum",
} as const;

/** One of the {@link RewardCombination} values. */
export type RewardCombination = (typeof RewardCombination)[keyof typeof RewardCombination];

/**
 * What happens when a reward function throws, rejects, or returns something that is not a finite number (or
 * null to abstain). Every failure is counted in the step metrics (`rewards/<name>/errors`).
 * - `throw`: training stops with a `RewardError` naming the reward and the sample (as verl and TRL stop).
 * - `zero`: the reward counts as 0 for that response and training goes on.
 * - `skip`: the response is left out of the update (as if every reward had abstained on it).
 */
export const OnRewardError = { THROW: "throw", ZERO: "zero", SKIP: "skip" } as const;

/** One of the {@link OnRewardError} values. */
export type OnRewardError = (typeof OnRewardError)[keyof typeof OnRewardError];
