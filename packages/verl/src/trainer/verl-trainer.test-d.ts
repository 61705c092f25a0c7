import type { CompletedTrainMetrics } from "@orbiter/trainer-core";
import { describe, expectTypeOf, it } from "vitest";
import { VeRLAlgorithm } from "../config/verl-algorithm.js";
import type { VeRLConfig, VeRLConfigInput } from "../config/verl-config.js";
import type { RewardFunction, RewardSpecInput } from "../rewards/reward-spec.js";
import type { VeRLDatasetInput } from "./dataset-input.js";
import type { VeRLTrainer } from "./verl-trainer.js";

describe("VeRLTrainer types", () => {
  it("the guide's config and rewards type-check as written", () => {
    const config = {
      algorithm: VeRLAlgorithm.PPO,
      epochs: 3,
      batchSize: 16,
      learningRate: 1e-5,
      klCoef: 0.1,
      clipRange: 0.2,
    } satisfies VeRLConfigInput;
    expectTypeOf(config).toExtend<VeRLConfigInput>();
    expectTypeOf<VeRLConfig["algorithm"]>().toEqualTypeOf<"ppo" | "grpo">();
    expectTypeOf<VeRLConfig["groupSize"]>().toEqualTypeOf<number>();
    expectTypeOf<VeRLConfig["klEstimator"]>().toEqualTypeOf<"k1" | "abs" | "k2" | "k3">();
    const sync: RewardFunction = (output) => output.length;
    const async: RewardFunction = async (_output, sample) => (sample.output === "" ? null : 1);
    expectTypeOf([
      { name: "a", fn: sync },
      { name: "b", weight: 2, fn: async },
    ]).toExtend<RewardSpecInput[]>();
  });

  it("train and evaluate take the dataset forms and return completed metrics", () => {
    expectTypeOf<VeRLTrainer["train"]>().parameter(0).toEqualTypeOf<VeRLDatasetInput | undefined>();
    expectTypeOf<VeRLTrainer["train"]>().returns.resolves.toEqualTypeOf<CompletedTrainMetrics>();
    expectTypeOf<string[]>().toExtend<VeRLDatasetInput>();
    expectTypeOf<{ toSamples(): Array<{ input: string; output: string }> }>().toExtend<VeRLDatasetInput>();
    expectTypeOf<number>().not.toExtend<VeRLDatasetInput>();
  });
});
