import { messageOf, RewardError, type Sample } from "@orbiter/types";
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
  /**
   * `values[k][i]`: reward k on response i; `null` where it abstained or (with `onRewardError: "skip"`) failed.
   * With `"zero"` a failure is already 0 here.
   */
  values: Array<Array<number | null>>;
  /**
   * `totals[i]` = Σ_k w_k·values[k][i] over rewards that did not abstain; `null` when every reward abstained or,
   * with `onRewardError: "skip"`, when a reward failed on response i (the row is left out of the update).
   */
  totals: Array<number | null>;
  /** Failures (throw, rejection, or a value that is not a finite number or null) per reward name. */
  errors: Record<string, number>;
  /** Abstentions (null or undefined returned) per reward name; failures are not counted here. */
  abstentions?: Record<string, number>;
}

/** Options of {@link scoreRewards}. */
export interface ScoreRewardsOptions {
  /** What a failing reward does: throw a `RewardError`, count as 0, or leave the response out. @default "throw" */
  onRewardError?: OnRewardError;
}

/** The sample, named for a message: its id and the start of its prompt. */
function describeSample(sample: Sample): string {
  const input = sample.input.length > 60 ? `${sample.input.slice(0, 60)}…` : sample.input;
  return `sample ${JSON.stringify(sample.id)} (input ${JSON.stringify(input)})`;
}

/** How a returned value is shown in a message: strings quoted, so `"1"` differs from `1`. */
function describeValue(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

/**
 * Runs every reward function on every response (concurrently when they are async) and combines them by weighted
 * sum. A reward that throws, rejects, or returns something other than a finite number (or null/undefined to
 * abstain) is a failure, counted in `errors`; by default (`onRewardError: "throw"`) the first one throws a
 * `RewardError` naming the reward and the sample, `"zero"` scores it 0 and `"skip"` leaves the response out
 * (`totals[i]` null).
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
  const policy = options.onRewardError ?? "throw";
  const errors: Record<string, number> = {};
  const abstentions: Record<string, number> = {};
  const skipped = new Array<boolean>(responses.length).fill(false);
  /** Counts a failure and throws it (`"throw"`) or marks the row (`"skip"`); the caller returns 0 or null. */
  const failed = (reward: RewardSpec, row: number, what: string, cause?: unknown): void => {
    errors[reward.name] = (errors[reward.name] ?? 0) + 1;
    if (policy === "throw") {
      const { sample } = responses[row] as ScoredResponse;
      throw new RewardError(
        reward.name,
        `Reward "${reward.name}" ${what} on response ${row} to ${describeSample(sample)}`,
        cause === undefined ? { sample } : { sample, cause },
      );
    }
    if (policy === "skip") skipped[row] = true;
  };
  const values = await Promise.all(
    rewards.map((reward) =>
      Promise.all(
        responses.map(async ({ output, sample, context }, row): Promise<number | null> => {
          let value: unknown;
          try {
            value = await reward.fn(output, sample, context ?? {});
          } catch (error) {
            failed(reward, row, `threw: ${messageOf(error)}`, error);
            return policy === "zero" ? 0 : null;
          }
          if (value === null || value === undefined) {
            abstentions[reward.name] = (abstentions[reward.name] ?? 0) + 1;
            return null;
          }
          if (typeof value !== "number" || !Number.isFinite(value)) {
            failed(reward, row, `returned ${describeValue(value)}, not a finite number`);
            return policy === "zero" ? 0 : null;
          }
          return value;
        }),
      ),
    ),
  );
  const totals = responses.map((_, i) => {
    if (skipped[i]) return null;
    let total: number | null = null;
    rewards.forEach((reward, k) => {
      const value = values[k]?.[i];
      if (value !== null && value !== undefined) total = (total ?? 0) + reward.weight * value;
    });
    return total;
  });
  return { ...emptyRewardScores(rewards), values, totals, errors, abstentions };
}

/** The scores of no response yet, for {@link appendRewardScores} to gather chunks into. */
export function emptyRewardScores(rewards: ReadonlyArray<RewardSpec>): RewardScores {
  return {
    names: rewards.map((reward) => reward.name),
    weights: rewards.map((reward) => reward.weight),
    values: rewards.map(() => []),
    totals: [],
    errors: {},
    abstentions: {},
  };
}

/** Appends the scores of more responses, by the same rewards, to `into` (failures and abstentions added up). */
export function appendRewardScores(into: RewardScores, part: RewardScores): void {
  into.totals.push(...part.totals);
  part.values.forEach((row, k) => {
    into.values[k]?.push(...row);
  });
  const abstentions = into.abstentions ?? {};
  into.abstentions = abstentions;
  for (const [name, count] of Object.entries(part.errors))
    into.errors[name] = (into.errors[name] ?? 0) + count;
  for (const [name, count] of Object.entries(part.abstentions ?? {})) {
    abstentions[name] = (abstentions[name] ?? 0) + count;
  }
}
