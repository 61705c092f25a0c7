import { RewardError, type Sample } from "@orbiter/types";
import type { OnRewardError } from "./reward-combination.js";
import type { RewardContext, RewardSpec } from "./reward-spec.js";

/** One response to score. */
export interface ScoredResponse {
  /** The generated text. */
  output: string;
  /** The sample it answers. */
  sample: Sample;
  /** What else the reward functions get (the episode, in agent mode). @default {} */
  context?: RewardContext;
}

/** Every reward's value for every response, and the combined score. */
export interface RewardScores {
  /** Reward names, in the order of the specs. */
  names: string[];
  /** Reward weights, in the same order. */
  weights: number[];
  /** `values[k][i]`: reward k on response i; `null` where it abstained. Failures are already replaced. */
  values: Array<Array<number | null>>;
  /** `totals[i]` = Σ_k w_k·values[k][i] over rewards that did not abstain; `null` when every reward abstained. */
  totals: Array<number | null>;
  /** Failures (throw or non-finite value) per reward name. */
  errors: Record<string, number>;
}

/** Options of {@link scoreRewards}. */
export interface ScoreRewardsOptions {
  /** What a failing reward does: count it and use 0, or throw a `RewardError`. @default "zero" */
  onRewardError?: OnRewardError;
}

/**
 * Runs every reward function on every response (concurrently when they are async) and combines them by weighted
 * sum. A reward that throws or returns a non-finite number is counted in `errors` and, with
 * `onRewardError: "zero"`, scored 0; with `"throw"` a `RewardError` naming the reward is thrown.
 *
 * @example
 * ```ts
 * const scores = await scoreRewards(rewards, [{ output: "7", sample }]);
 * scores.totals[0]; // weighted sum
 * ```
 */
export async function scoreRewards(
  rewards: ReadonlyArray<RewardSpec>,
  responses: ReadonlyArray<ScoredResponse>,
  options: ScoreRewardsOptions = {},
): Promise<RewardScores> {
  const policy = options.onRewardError ?? "zero";
  const errors: Record<string, number> = {};
  const failed = (reward: RewardSpec, message: string, cause?: unknown): number => {
    errors[reward.name] = (errors[reward.name] ?? 0) + 1;
    if (policy === "throw") {
      throw new RewardError(
        reward.name,
        `Reward "${reward.name}" ${message}`,
        cause === undefined ? {} : { cause },
      );
    }
    return 0;
  };
  const values = await Promise.all(
    rewards.map((reward) =>
      Promise.all(
        responses.map(async ({ output, sample, context }): Promise<number | null> => {
          let value: unknown;
          try {
            value = await reward.fn(output, sample, context ?? {});
          } catch (error) {
            return failed(reward, `threw: ${error instanceof Error ? error.message : String(error)}`, error);
          }
          if (value === null || value === undefined) return null;
          if (typeof value !== "number" || !Number.isFinite(value)) {
            return failed(reward, `returned ${String(value)}, not a finite number`);
          }
          return value;
        }),
      ),
    ),
  );
  const totals = responses.map((_, i) => {
    let total: number | null = null;
    rewards.forEach((reward, k) => {
      const value = values[k]?.[i];
      if (value !== null && value !== undefined) total = (total ?? 0) + reward.weight * value;
    });
    return total;
  });
  return {
    names: rewards.map((reward) => reward.name),
    weights: rewards.map((reward) => reward.weight),
    values,
    totals,
    errors,
  };
}
