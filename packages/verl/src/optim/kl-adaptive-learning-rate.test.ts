import { InvalidArgumentError } from "@orbiter/types";
import { describe, expect, it } from "vitest";
import { KlAdaptiveLearningRate, MIN_LEARNING_RATE_SCALE } from "./kl-adaptive-learning-rate.js";

describe("KlAdaptiveLearningRate (rsl_rl's adaptive schedule, as a scale of the configured one)", () => {
  it("divides the scale by 1.5 above 2× the target, multiplies it by 1.5 below half, keeps it in between", () => {
    const rate = new KlAdaptiveLearningRate(0.01);
    rate.update(0.03); // > 0.02
    expect(rate.scale).toBeCloseTo(1 / 1.5, 15);
    rate.update(0.021);
    expect(rate.scale).toBeCloseTo(1 / 2.25, 15);
    rate.update(0.02); // exactly 2×: inside the band
    rate.update(0.005); // exactly ½: inside the band
    rate.update(0.012);
    expect(rate.scale).toBeCloseTo(1 / 2.25, 15);
    rate.update(0.004); // < 0.005
    expect(rate.scale).toBeCloseTo(1 / 1.5, 15);
    expect(rate.rateOf(3e-4)).toBeCloseTo(2e-4, 15);
  });

  it("never rises above the configured rate, nor falls below its floor", () => {
    const rate = new KlAdaptiveLearningRate(0.01);
    rate.update(0);
    rate.update(0);
    expect(rate.scale).toBe(1);
    expect(rate.rateOf(1e-3)).toBe(1e-3);
    for (let i = 0; i < 40; i++) rate.update(1);
    expect(rate.scale).toBe(MIN_LEARNING_RATE_SCALE);
    rate.update(0);
    expect(rate.scale).toBeCloseTo(MIN_LEARNING_RATE_SCALE * 1.5, 15);
  });

  it("ignores missing and non-finite measurements, and does nothing when off", () => {
    const rate = new KlAdaptiveLearningRate(0.01);
    rate.update(1);
    const scale = rate.scale;
    rate.update(undefined);
    rate.update(Number.NaN);
    rate.update(Number.POSITIVE_INFINITY);
    expect(rate.scale).toBe(scale);
    const off = new KlAdaptiveLearningRate(null);
    off.update(100);
    expect(off.scale).toBe(1);
    expect(off.rateOf(1e-3)).toBe(1e-3);
  });

  it("restores a checkpointed scale, clamped into its range", () => {
    const rate = new KlAdaptiveLearningRate(0.01);
    rate.restore(0.25);
    expect(rate.scale).toBe(0.25);
    rate.restore(7);
    expect(rate.scale).toBe(1);
    rate.restore(0);
    expect(rate.scale).toBe(MIN_LEARNING_RATE_SCALE);
    rate.restore("0.5");
    expect(rate.scale).toBe(MIN_LEARNING_RATE_SCALE);
    // A run resumed with the trust region switched off trains at the schedule, whatever the checkpoint's scale.
    const off = new KlAdaptiveLearningRate(null);
    off.restore(0.25);
    expect(off.scale).toBe(1);
    expect(off.rateOf(1e-3)).toBe(1e-3);
  });

  it("rejects a target that is not a positive finite number, naming the field", () => {
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new KlAdaptiveLearningRate(bad)).toThrow(InvalidArgumentError);
    }
    expect(() => new KlAdaptiveLearningRate(-1)).toThrow(expect.objectContaining({ field: "desiredKl" }));
  });
});
