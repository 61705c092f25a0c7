import { InvalidArgumentError, RewardError, Sample } from "@orbiter/types";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { computeGroupAdvantage } from "../algorithms/group-advantage.js";
import { initBackend } from "../backend/init-backend.js";
import { normalizeThenSum } from "./normalize-then-sum.js";
import { rewardMetrics } from "./reward-metrics.js";
import { parseRewardSpecs } from "./reward-spec.js";
import { scoreRewards } from "./score-rewards.js";

const sample = Sample.parse({ id: "s", input: "3+4=", output: "7" });
const other = Sample.parse({ id: "t", input: "2+2=", output: "4" });

beforeAll(async () => {
  await initBackend({ backend: "cpu" });
});

describe("RewardSpec", () => {
  it("fills the weight and rejects duplicates and non-functions", () => {
    const [reward] = parseRewardSpecs([{ name: "exact", fn: () => 1 }]);
    expect(reward?.weight).toBe(1);
    expect(() => parseRewardSpecs([])).toThrow(InvalidArgumentError);
    expect(() =>
      parseRewardSpecs([
        { name: "a", fn: () => 1 },
        { name: "a", fn: () => 1 },
      ]),
    ).toThrow(/rewards\[1\]\.name|Duplicate/);
    try {
      parseRewardSpecs([{ name: "a", fn: "nope" }]);
      expect.unreachable();
    } catch (error) {
      expect((error as InvalidArgumentError).field).toBe("rewards[0].fn");
    }
  });
});

describe("scoreRewards", () => {
  it("V3: weighted sum of two rewards, sync and async", async () => {
    const table = [
      [1, 1],
      [0, 1],
      [0, 0],
      [1, 0],
    ];
    const rewards = parseRewardSpecs([
      { name: "a", weight: 1, fn: (output: string) => table[Number(output)]?.[0] ?? null },
      { name: "b", weight: 0.5, fn: async (output: string) => table[Number(output)]?.[1] ?? null },
    ]);
    const scores = await scoreRewards(
      rewards,
      ["0", "1", "2", "3"].map((output) => ({ output, sample })),
    );
    expect(scores.totals).toEqual([1.5, 0.5, 0, 1]);
    const advantages = computeGroupAdvantage({
      scores: tf.tensor1d(scores.totals as number[]),
      groupSize: 4,
      epsilon: 1e-4,
    });
    const expected = [1.161715, -0.387238, -1.161715, 0.387238];
    (advantages.arraySync() as number[]).forEach((value, i) => {
      expect(value).toBeCloseTo(expected[i] as number, 5);
    });
    advantages.dispose();
    const metrics = rewardMetrics(scores);
    expect(metrics["rewards/a/mean"]).toBe(0.5);
    expect(metrics["rewards/b/mean"]).toBe(0.5);
    // per-reward means add up to the weighted total
    expect(
      1 * (metrics["rewards/a/mean"] as number) + 0.5 * (metrics["rewards/b/mean"] as number),
    ).toBeCloseTo(metrics["reward/mean"] as number, 12);
  });

  it("V3: normalize-then-sum", () => {
    const values = [
      [1, 0, 0, 1],
      [1, 1, 0, 0],
    ];
    const result = normalizeThenSum(values, [1, 0.5], 4);
    const expected = [1.161791, -0.387264, -1.161791, 0.387264];
    result.forEach((value, i) => {
      expect(value).toBeCloseTo(expected[i] as number, 5);
    });
  });

  it("abstentions add nothing; all-abstained gives null", async () => {
    const rewards = parseRewardSpecs([
      { name: "a", fn: (output: string) => (output === "x" ? null : 2) },
      { name: "b", weight: 3, fn: (output: string) => (output === "y" ? 1 : null) },
    ]);
    const scores = await scoreRewards(rewards, [
      { output: "x", sample },
      { output: "y", sample },
      { output: "z", sample },
    ]);
    expect(scores.totals).toEqual([null, 5, 2]);
    const metrics = rewardMetrics(scores);
    expect(metrics["reward/mean"]).toBe(3.5);
    expect(metrics["rewards/b/abstained"]).toBeCloseTo(2 / 3, 12);
  });

  it("throws a RewardError naming the reward and the sample by default", async () => {
    const cause = new Error("bad output");
    const failing: Array<[string, (output: string) => unknown, RegExp]> = [
      [
        "throws",
        () => {
          throw cause;
        },
        /threw: bad output/,
      ],
      ["rejects", () => Promise.reject(cause), /threw: bad output/],
      ["nan", () => Number.NaN, /returned NaN/],
      ["infinite", () => Number.NEGATIVE_INFINITY, /returned -Infinity/],
      ["text", () => "1", /returned "1"/],
    ];
    for (const [name, fn, message] of failing) {
      const rewards = parseRewardSpecs([
        { name: "fine", fn: () => 1 },
        { name, fn: fn as () => number },
      ]);
      const error = await scoreRewards(rewards, [
        { output: "ok", sample },
        { output: "ok", sample: other },
      ]).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(RewardError.isInstance(error), name).toBe(true);
      const rewardError = error as RewardError;
      expect(rewardError.reward).toBe(name);
      expect(rewardError.sample).toBe(sample);
      expect(rewardError.message).toMatch(message);
      expect(rewardError.message).toContain(`Reward "${name}"`);
      expect(rewardError.message).toContain('sample "s" (input "3+4=")');
      if (name === "throws" || name === "rejects") expect(rewardError.cause).toBe(cause);
    }
  });

  it('with onRewardError "zero" counts failures and scores them 0', async () => {
    const rewards = parseRewardSpecs([
      {
        name: "flaky",
        fn: (output: string) => {
          if (output === "boom") throw new Error("bad output");
          return output === "nan" ? Number.NaN : 1;
        },
      },
      { name: "inf", weight: 2, fn: () => Number.POSITIVE_INFINITY },
    ]);
    const responses = ["ok", "boom", "nan"].map((output) => ({ output, sample }));
    const scores = await scoreRewards(rewards, responses, { onRewardError: "zero" });
    expect(scores.errors).toEqual({ flaky: 2, inf: 3 });
    expect(scores.totals).toEqual([1, 0, 0]);
    expect(rewardMetrics(scores)["rewards/flaky/errors"]).toBe(2);
    expect(rewardMetrics(scores)["rewards/flaky/abstained"]).toBe(0);
  });

  it('with onRewardError "skip" leaves the failing rows out (null total) and counts the failures', async () => {
    const rewards = parseRewardSpecs([
      {
        name: "flaky",
        fn: async (output: string) => {
          if (output === "boom") throw new Error("bad output");
          return output === "nan" ? Number.NaN : 1;
        },
      },
      { name: "one", weight: 2, fn: () => 1 },
    ]);
    const responses = ["ok", "boom", "nan", "ok"].map((output) => ({ output, sample }));
    const scores = await scoreRewards(rewards, responses, { onRewardError: "skip" });
    expect(scores.totals).toEqual([3, null, null, 3]);
    expect(scores.errors).toEqual({ flaky: 2 });
    const metrics = rewardMetrics(scores);
    expect(metrics["rewards/flaky/errors"]).toBe(2);
    expect(metrics["rewards/flaky/abstained"]).toBe(0);
    expect(metrics["reward/mean"]).toBe(3);
  });
});
