import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../backend/init-backend.js";
import type { VeRLConfigInput } from "../config/verl-config.js";
import { countA } from "../internal/testing/count-a-reward.js";
import type { Policy } from "../model/policy.js";
import { TransformerPolicy } from "../model/transformer-policy.js";
import { CharTokenizer } from "../tokenizer/char-tokenizer.js";
import { VeRLTrainer } from "./verl-trainer.js";

const prompts = ["ab", "ba", "aab", "bba"];

beforeAll(async () => {
  await initBackend();
});

function largestChange(before: Map<string, { data: Float32Array }>, policy: Policy): number {
  let largest = 0;
  for (const [name, tensor] of policy.getWeights()) {
    const previous = (before.get(name) as { data: Float32Array }).data;
    tensor.data.forEach((value, i) => {
      largest = Math.max(largest, Math.abs(value - (previous[i] as number)));
    });
  }
  return largest;
}

/** GRPO steps from one seeded policy: the learning rate of each step and the largest single weight change. */
async function train(config: VeRLConfigInput): Promise<{ rates: number[]; largest: number }> {
  const policy = new TransformerPolicy({
    tokenizer: CharTokenizer.fromCorpus(prompts),
    config: { dModel: 16, nHeads: 2, nLayers: 1, dMlp: 32, contextLength: 16 },
    seed: 3,
  });
  const before = policy.getWeights();
  const rates: number[] = [];
  const trainer = new VeRLTrainer({
    policy,
    config: {
      algorithm: "grpo",
      batchSize: 4,
      groupSize: 4,
      maxNewTokens: 4,
      learningRate: 1e-2,
      epochs: 20,
      seed: 5,
      ...config,
    },
    rewards: [countA],
    onStep: ({ metrics }) => {
      rates.push(metrics.extra?.["actor/lr"] as number);
    },
  });
  try {
    await trainer.train(prompts);
    return { rates, largest: largestChange(before, policy) };
  } finally {
    trainer.dispose();
    policy.dispose();
  }
}

describe("RL learning-rate warm-up", () => {
  it("is on by default, so a fresh Adam's first update moves no weight by more than learningRate / 10", async () => {
    // Adam's first update is lr · g / (|g| + ε) on every weight: the full learning rate wherever the gradient is
    // not vanishingly small, whatever its size. That is what undid a warm start at 1e-3.
    const cold = await train({ maxSteps: 1, warmupSteps: 0 });
    expect(cold.rates).toEqual([1e-2]);
    expect(cold.largest).toBeGreaterThan(0.99e-2);
    expect(cold.largest).toBeLessThan(1.01e-2);
    const warm = await train({ maxSteps: 1 });
    expect(warm.rates[0]).toBeCloseTo(1e-3, 12);
    expect(warm.largest).toBeGreaterThan(0.99e-3);
    expect(warm.largest).toBeLessThan(1.01e-3);
  });

  it("ramps linearly to the peak at step warmupSteps, then decays on a cosine to 0 at the last step", async () => {
    const { rates, largest } = await train({ maxSteps: 15 });
    const peak = 1e-2;
    const warmUp = Array.from({ length: 10 }, (_, i) => ((i + 1) * peak) / 10);
    // Steps 10..14 decay from the peak to 0 over 4 intervals.
    const decay = Array.from({ length: 5 }, (_, i) => (peak / 2) * (1 + Math.cos((Math.PI * i) / 4)));
    const expected = [...warmUp, ...decay];
    expect(rates).toHaveLength(15);
    rates.forEach((rate, i) => {
      expect(rate).toBeCloseTo(expected[i] as number, 12);
    });
    expect(rates[14]).toBe(0);
    expect(Number.isFinite(largest)).toBe(true);
  });

  it("keeps the old constant rate when asked: lrSchedule constant and warmupSteps 0", async () => {
    const { rates } = await train({ maxSteps: 3, lrSchedule: "constant", warmupSteps: 0 });
    expect(rates).toEqual([1e-2, 1e-2, 1e-2]);
  });
});
