import { describe, expect, it } from "vitest";
import { VeRLConfig } from "../config/verl-config.js";
import { StepControllers } from "./step-controllers.js";

describe("StepControllers.restore", () => {
  const config = VeRLConfig.parse({
    algorithm: "grpo",
    klCoef: 0.1,
    adaptiveKl: { target: 0.01, horizon: 100 },
    desiredKl: 0.01,
  });

  it("takes β and the learning-rate scale from the checkpoint", () => {
    const controllers = new StepControllers(config);
    controllers.restore({ klCoef: 0.3, learningRateScale: 0.25 });
    expect(controllers.state()).toEqual({ klCoef: 0.3, learningRateScale: 0.25 });
  });

  it("gives a field the checkpoint lacks its start value, not the one reached before the resume", () => {
    const controllers = new StepControllers(config);
    const metrics = { "actor/step_kl": 1 };
    controllers.update({ loss: 0, reward: 0, metrics, meanKl: 1, rows: 50, skipped: 0 });
    // KL 100× the target: β rose by 20 % of 50/100 responses, and the scale fell by 1.5.
    expect(controllers.state().klCoef).toBeCloseTo(0.11, 12);
    expect(controllers.state().learningRateScale).toBeCloseTo(1 / 1.5, 12);
    controllers.restore({});
    expect(controllers.state()).toEqual({ klCoef: 0.1, learningRateScale: 1 });
  });
});
