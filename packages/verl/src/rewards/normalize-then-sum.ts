import { InvalidArgumentError } from "@orbiter/types";

function zScore(values: ReadonlyArray<number | null>, epsilon: number): Array<number | null> {
  const present = values.filter((value): value is number => value !== null);
  if (present.length === 0) return values.map(() => null);
  const mean = present.reduce((sum, value) => sum + value, 0) / present.length;
  const variance =
    present.length > 1
      ? present.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (present.length - 1)
      : 0;
  const scale = Math.sqrt(variance) + epsilon;
  return values.map((value) => (value === null ? null : (value - mean) / scale));
}

/**
 * Normalise-then-sum combination of several rewards (TRL `multi_objective_aggregation="normalize_then_sum"`,
 * GDPO): each reward is z-scored within its group of `groupSize` responses (sample std, ε), the z-scores are
 * weighted and summed (an abstaining reward adds nothing), and the sums are z-scored over the whole batch. The
 * result is already an advantage-like score with batch mean 0. With `groupSize` 1, each reward is z-scored over the
 * batch instead.
 *
 * @param values `values[k][i]` reward k on response i, `null` = abstained; groups of `groupSize` are contiguous
 * @param weights one weight per reward
 * @param epsilon added to each std @default 1e-4
 * @returns one number per response
 */
export function normalizeThenSum(
  values: ReadonlyArray<ReadonlyArray<number | null>>,
  weights: ReadonlyArray<number>,
  groupSize: number,
  epsilon = 1e-4,
): number[] {
  if (values.length !== weights.length) {
    throw new InvalidArgumentError(`got ${values.length} reward rows for ${weights.length} weights`, {
      field: "weights",
    });
  }
  const count = values[0]?.length ?? 0;
  if (!Number.isInteger(groupSize) || groupSize < 1 || count % groupSize !== 0) {
    throw new InvalidArgumentError(`groupSize ${groupSize} must divide the ${count} responses`, {
      field: "groupSize",
    });
  }
  const span = groupSize === 1 ? count : groupSize;
  const sums = new Array<number>(count).fill(0);
  values.forEach((row, k) => {
    const weight = weights[k] as number;
    for (let start = 0; start < count; start += span) {
      const normalised = zScore(row.slice(start, start + span), epsilon);
      normalised.forEach((value, offset) => {
        if (value !== null) sums[start + offset] = (sums[start + offset] as number) + weight * value;
      });
    }
  });
  return zScore(sums, epsilon) as number[];
}
