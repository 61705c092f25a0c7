import { describe, expect, expectTypeOf, it } from "vitest";
import type { RewardSpec, TrainMetrics, TrajectoryItem } from "./index.js";
import * as train from "./index.js";

/**
 * Every symbol of the training guide's "API Summary" table, in TypeScript casing. Each must be importable
 * from the umbrella package, as `from orbiter.train import ...` is in the guide.
 */
const seedValueSymbols = [
  "TrajectoryItem",
  "TrajectoryDataset",
  "TrajectoryStrategy",
  "DefaultStrategy",
  "TrainConfig",
  "Trainer",
  "TrainerState",
  "TrainMetrics",
  "SynthesisConfig",
  "SynthesisPipeline",
  "DataSynthesiser",
  "TemplateSynthesiser",
  "EvolutionConfig",
  "EvolutionPipeline",
  "EvolutionStrategy",
  "VeRLConfig",
  "VeRLTrainer",
  "VeRLAlgorithm",
  "augmentAddNoise",
  "augmentSwapIo",
  "filterByScore",
  "deduplicate",
  "splitDataset",
] as const;

describe("@orbiter/train", () => {
  it.each(seedValueSymbols)("exports %s from the guide's API summary", (name) => {
    expect(train).toHaveProperty(name);
    expect((train as Record<string, unknown>)[name]).toBeDefined();
  });

  it("exports RewardSpec as a type with the guide's fields", () => {
    expectTypeOf<RewardSpec>().toHaveProperty("name");
    expectTypeOf<RewardSpec>().toHaveProperty("weight");
    expectTypeOf<RewardSpec>().toHaveProperty("fn");
    expectTypeOf<TrainMetrics>().toHaveProperty("loss");
    expectTypeOf<TrajectoryItem>().toHaveProperty("reward");
  });

  it("keeps the guide's enum values", () => {
    expect(train.TrainerState.CREATED).toBe("created");
    expect(Object.values(train.TrainerState)).toHaveLength(8);
    expect(train.VeRLAlgorithm.PPO).toBe("ppo");
    expect(train.VeRLAlgorithm.GRPO).toBe("grpo");
    expect(Object.values(train.EvolutionPhase).sort()).toEqual(
      ["complete", "evaluating", "init", "mutating", "selecting"].sort(),
    );
  });

  it("runs the guide's basic usage through the one import", async () => {
    const dataset = new train.TrajectoryDataset();
    dataset.capture({
      state: "User asks about Python",
      action: "search(query='Python programming')",
      reward: 0.8,
    });
    expect(dataset.length).toBe(1);
    const [kept] = train.filterByScore(dataset.toSamples(), { minScore: 0.5 });
    expect(kept?.input).toBe("User asks about Python");
  });
});
