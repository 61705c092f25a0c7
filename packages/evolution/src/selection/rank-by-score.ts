import { InvalidArgumentError } from "@orbiter/types";

/** Checks that `population` and `scores` line up; returns their length. */
export function checkScores(population: readonly unknown[], scores: readonly number[]): number {
  if (population.length !== scores.length) {
    throw new InvalidArgumentError(
      `scores has ${scores.length} entries but population has ${population.length} candidates`,
      { field: "scores", value: scores.length },
    );
  }
  for (let index = 0; index < scores.length; index++) {
    const score = scores[index];
    if (typeof score !== "number" || Number.isNaN(score)) {
      throw new InvalidArgumentError(`scores[${index}] is not a number`, {
        field: `scores[${index}]`,
        value: score,
      });
    }
  }
  return scores.length;
}

/** Indices of `scores` from best (highest) to worst; ties keep the earlier index first. */
export function rankByScore(scores: readonly number[]): number[] {
  const order = Array.from({ length: scores.length }, (_, index) => index);
  return order.sort((a, b) => {
    const difference = (scores[b] as number) - (scores[a] as number);
    // -Infinity - -Infinity is NaN: equal scores keep their order.
    return Number.isNaN(difference) || difference === 0 ? a - b : difference;
  });
}

/** Checks a requested number of parents: an integer ≥ 1. */
export function checkCount(count: number, field = "count"): number {
  if (!Number.isInteger(count) || count < 1) {
    throw new InvalidArgumentError(`${field} must be an integer >= 1, got ${count}`, { field, value: count });
  }
  return count;
}
