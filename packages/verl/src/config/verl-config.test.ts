import { InvalidArgumentError, parseWith } from "@orbiter/types";
import { describe, expect, it } from "vitest";
import { VeRLAlgorithm } from "./verl-algorithm.js";
import { ALGORITHM_DEFAULTS, VeRLConfig } from "./verl-config.js";

const parse = (input: unknown) => parseWith(VeRLConfig, input, { what: "VeRLConfig", path: "config" });

describe("VeRLConfig", () => {
  it("accepts the guide's config and fills PPO defaults", () => {
    const config = parse({
      algorithm: VeRLAlgorithm.PPO,
      epochs: 3,
      batchSize: 16,
      learningRate: 1e-5,
      klCoef: 0.1,
      clipRange: 0.2,
    });
    expect(config).toMatchObject({
      algorithm: "ppo",
      epochs: 3,
      batchSize: 16,
      learningRate: 1e-5,
      klCoef: 0.1,
      clipRangeLow: 0.2,
      clipRangeHigh: 0.2,
      groupSize: 1,
      advantageEstimator: "gae",
      klPlacement: "reward",
      klEstimator: "k1",
      miniBatchSize: 16,
      dualClip: 3,
      lossAggregation: "token-mean",
    });
  });

  it("follows the algorithm for defaults the user left out", () => {
    const grpo = parse({ algorithm: "grpo", batchSize: 4 });
    expect(grpo.groupSize).toBe(ALGORITHM_DEFAULTS.grpo.groupSize);
    expect(grpo.advantageEstimator).toBe("grpo");
    expect(grpo.klPlacement).toBe("loss");
    expect(grpo.klEstimator).toBe("k3");
    expect(grpo.klCoef).toBe(0.04);
    // RL warms the learning rate up and decays it on a cosine by default (trainer-core's TrainConfig does not).
    expect(grpo.warmupSteps).toBe(10);
    expect(parse({ algorithm: "ppo" }).warmupSteps).toBe(10);
    expect(parse({ warmupSteps: 0 }).warmupSteps).toBe(0);
    expect(grpo.lrSchedule).toBe("cosine");
    expect(parse({ lrSchedule: "constant" }).lrSchedule).toBe("constant");
    expect(grpo.miniBatchSize).toBe(4 * ALGORITHM_DEFAULTS.grpo.groupSize);
    expect(parse({ model: { dModel: 32, nHeads: 2 } }).model).toEqual({ dModel: 32, nHeads: 2 });
    const custom = parse({
      algorithm: "grpo",
      groupSize: 4,
      klEstimator: "k2",
      clipRangeHigh: 0.28,
      miniBatchSize: 8,
    });
    expect(custom).toMatchObject({
      groupSize: 4,
      klEstimator: "k2",
      clipRangeLow: 0.2,
      clipRangeHigh: 0.28,
      miniBatchSize: 8,
    });
  });

  it("names the offending field", () => {
    const check = (input: unknown, field: string) => {
      try {
        parse(input);
        expect.unreachable(`expected ${field} to be rejected`);
      } catch (error) {
        expect(InvalidArgumentError.isInstance(error)).toBe(true);
        expect((error as InvalidArgumentError).field).toBe(field);
      }
    };
    check({ epochs: 0 }, "config.epochs");
    check({ algorithm: "dpo" }, "config.algorithm");
    check({ klEstimator: "k4" }, "config.klEstimator");
    check({ unknownKnob: 1 }, "config.unknownKnob");
    check({ algorithm: "grpo", advantageEstimator: "gae" }, "config.advantageEstimator");
    check({ algorithm: "grpo", batchSize: 2, groupSize: 4, miniBatchSize: 3 }, "config.miniBatchSize");
    check({ saveEvery: 5 }, "config.checkpointDir");
    check({ dualClip: 1 }, "config.dualClip");
    check({ topP: 0 }, "config.topP");
    check({ adaptiveKl: { horizon: 10 } }, "config.adaptiveKl.target");
    check({ model: { dModel: 30, nHeads: 4 } }, "config.model.nHeads");
    check({ model: { layers: 2 } }, "config.model.layers");
    check({ model: "big" }, "config.model");
    // normalize-then-sum GRPO scores are the advantages: a KL penalty in the reward would be lost.
    const nts = { algorithm: "grpo", rewardCombination: "normalize-then-sum" } as const;
    check({ ...nts, klPlacement: "reward" }, "config.klPlacement");
    expect(parse({ ...nts, klPlacement: "reward", klCoef: 0 }).klPlacement).toBe("reward");
    expect(parse({ ...nts, klPlacement: "loss" }).klPlacement).toBe("loss");
  });
});
