import { fieldOf } from "@orbiter/test-support";
import { describe, expect, it } from "vitest";
import { learningRateAt } from "./learning-rate.js";
import { TrainConfig } from "./train-config.js";

describe("learningRateAt", () => {
  it("keeps the constant schedule flat and ignores warm-up", () => {
    const config = { learningRate: 0.01, warmupSteps: 10, lrSchedule: "constant" as const };
    expect([0, 5, 10, 1000].map((step) => learningRateAt(step, config))).toEqual([0.01, 0.01, 0.01, 0.01]);
  });

  it("ramps linearly over warm-up without wasting the first step, then holds", () => {
    const config = { learningRate: 1, warmupSteps: 4, lrSchedule: "linear-warmup" as const };
    expect([0, 1, 2, 3, 4, 50].map((step) => learningRateAt(step, config))).toEqual([
      0.25, 0.5, 0.75, 1, 1, 1,
    ]);
    expect(
      learningRateAt(10, { learningRate: 1e-3, warmupSteps: 100, lrSchedule: "linear-warmup" }),
    ).toBeCloseTo(1.1e-4, 12);
  });

  it("decays along a half cosine from the peak to minLearningRate at the last step", () => {
    const config = { learningRate: 1, minLearningRate: 0.1, warmupSteps: 2, lrSchedule: "cosine" as const };
    // total 12: warm-up steps 0-1, decay over steps 2..11 (progress = (step - 2) / 9)
    const rates = Array.from({ length: 14 }, (_, step) => learningRateAt(step, config, 12));
    expect(rates[0]).toBeCloseTo(0.5, 12);
    expect(rates[1]).toBeCloseTo(1, 12);
    expect(rates[2]).toBeCloseTo(1, 12);
    expect(rates[6]).toBeCloseTo(0.1 + 0.9 * 0.5 * (1 + Math.cos((Math.PI * 4) / 9)), 12);
    expect(rates[11]).toBeCloseTo(0.1, 12);
    expect(rates[13]).toBeCloseTo(0.1, 12);
    for (let step = 3; step < 12; step++) expect(rates[step]).toBeLessThan(rates[step - 1] as number);
  });

  it("takes the cosine length from maxSteps and works with a parsed TrainConfig", () => {
    const config = TrainConfig.parse({ learningRate: 0.5, lrSchedule: "cosine", maxSteps: 3 });
    expect([0, 1, 2].map((step) => learningRateAt(step, config))).toEqual([0.5, 0.25, 0]);
  });

  it("names the bad argument", () => {
    const cosine = { learningRate: 1, warmupSteps: 0, lrSchedule: "cosine" as const };
    const cases: Array<[() => unknown, string]> = [
      [() => learningRateAt(0, cosine), "totalSteps"],
      [() => learningRateAt(-1, cosine, 10), "step"],
      [() => learningRateAt(1.5, cosine, 10), "step"],
      [() => learningRateAt(0, { ...cosine, minLearningRate: 2 }, 10), "config.minLearningRate"],
    ];
    for (const [call, field] of cases) {
      expect(fieldOf(call)).toBe(field);
    }
  });
});
