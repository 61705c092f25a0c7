import { softOverlongPenalty } from "../algorithms/overlong-penalty.js";
import type { VeRLConfig } from "../config/verl-config.js";
import { flatTaskGroups } from "./flat-task-groups.js";
import { normalizeThenSum } from "./normalize-then-sum.js";
import type { RewardScores } from "./score-rewards.js";

/** The settings of {@link shapeRewards}: the reward-shaping fields of `VeRLConfig`. */
export type RewardShapingConfig = Pick<
  VeRLConfig,
  | "rewardCombination"
  | "advantageEstimator"
  | "groupSize"
  | "overlongPenalty"
  | "maxNewTokens"
  | "filterZeroStdGroups"
>;

/** The scores a rollout batch is built from, after {@link shapeRewards}. */
export interface ShapedRewards {
  /** One score per response; `null` leaves the row out of the update (abstained or in a flat group). */
  scores: Array<number | null>;
  /** The scores are already advantages (normalise-then-sum under GRPO): the estimator must not normalise again. */
  scoresAreAdvantages: boolean;
  /** Mean overlong penalty over the batch, or undefined when `overlongPenalty` is off. */
  meanOverlongPenalty: number | undefined;
}

/**
 * Turns the reward scores of one rollout into the scores advantages are computed from, in this order:
 * normalise-then-sum of the rewards (`rewardCombination`), plus the soft overlong penalty of each response's
 * length (`overlongPenalty`), then rows of groups whose totals are all equal set to null (`filterZeroStdGroups`).
 *
 * @param responseLengths token count of each response, in row order
 */
export function shapeRewards(
  scores: RewardScores,
  responseLengths: ReadonlyArray<number>,
  config: RewardShapingConfig,
): ShapedRewards {
  let shaped: Array<number | null> = scores.totals;
  let scoresAreAdvantages = false;
  if (config.rewardCombination === "normalize-then-sum") {
    const combined = normalizeThenSum(scores.values, scores.weights, config.groupSize);
    shaped = combined.map((value, row) => (scores.totals[row] === null ? null : value));
    scoresAreAdvantages = config.advantageEstimator === "grpo";
  }
  let meanOverlongPenalty: number | undefined;
  if (config.overlongPenalty !== null) {
    const { bufferLength, factor } = config.overlongPenalty;
    let penaltySum = 0;
    shaped = shaped.map((score, row) => {
      const penalty = softOverlongPenalty(responseLengths[row] as number, {
        maxLength: config.maxNewTokens,
        bufferLength,
        factor,
      });
      penaltySum += penalty;
      return score === null ? null : score + penalty;
    });
    meanOverlongPenalty = penaltySum / responseLengths.length;
  }
  if (config.filterZeroStdGroups && config.groupSize > 1) {
    shaped = withoutFlatGroups(scores.totals, config.groupSize, shaped);
  }
  return { scores: shaped, scoresAreAdvantages, meanOverlongPenalty };
}

/** The prompt group of each of `count` rows, which come in contiguous groups of `groupSize`. */
function contiguousGroups(count: number, groupSize: number): number[] {
  return Array.from({ length: count }, (_, row) => Math.floor(row / groupSize));
}

/** `scores` with every row of a group whose `totals` are all equal set to null (left out of the update). */
function withoutFlatGroups(
  totals: ReadonlyArray<number | null>,
  groupSize: number,
  scores: ReadonlyArray<number | null>,
): Array<number | null> {
  const groups = contiguousGroups(totals.length, groupSize);
  const { flat } = flatTaskGroups(totals, groups);
  return scores.map((score, row) => (flat.has(groups[row] as number) ? null : score));
}

/** Fraction of prompt groups whose scores are all equal (they carry no GRPO signal). */
export function zeroStdFraction(totals: ReadonlyArray<number | null>, groupSize: number): number {
  if (groupSize < 2) return 0;
  return flatTaskGroups(totals, contiguousGroups(totals.length, groupSize)).fraction;
}
