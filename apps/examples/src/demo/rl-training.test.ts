import { VeRLConfig } from "@orbiter/verl";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_PPO_RECIPE,
  DEFAULT_RL_SETTINGS,
  defaultRlSettings,
  LEARNED_POSITIONS_PPO_RECIPE,
  LEARNED_POSITIONS_RL_SETTINGS,
  ppoRecipe,
  rlConfig,
} from "./rl-training.js";

const samples = Array.from({ length: 100 }, (_, i) => ({
  id: `s${i}`,
  input: `weather in Oslo? ${i}`,
  output: "weather(Oslo)",
  metadata: {},
}));
const base = { samples, settings: DEFAULT_RL_SETTINGS, steps: 20, batchSize: 8, groupSize: 8, seed: 1 };

describe("the demo's RL settings", () => {
  it("pick the settings and the PPO recipe of the warm start's positional scheme", () => {
    expect(defaultRlSettings(true)).toEqual(DEFAULT_RL_SETTINGS);
    expect(defaultRlSettings(false)).toEqual(LEARNED_POSITIONS_RL_SETTINGS);
    expect(DEFAULT_RL_SETTINGS.learningRate).toBeLessThan(LEARNED_POSITIONS_RL_SETTINGS.learningRate);
    expect(ppoRecipe(true)).toEqual(DEFAULT_PPO_RECIPE);
    expect(ppoRecipe(false)).toEqual(LEARNED_POSITIONS_PPO_RECIPE);
  });

  it("give GRPO the tuned settings and PPO the recipe's learning rate and critic warm-up", () => {
    const grpo = VeRLConfig.parse(rlConfig({ ...base, algorithm: "grpo" }));
    expect(grpo).toMatchObject({
      algorithm: "grpo",
      learningRate: 5e-5,
      batchSize: 8,
      groupSize: 8,
      maxSteps: 20,
    });
    expect(grpo.criticWarmupSteps).toBe(0);
    const ppo = VeRLConfig.parse(rlConfig({ ...base, algorithm: "ppo" }));
    expect(ppo).toMatchObject({ algorithm: "ppo", learningRate: 5e-5, criticWarmupSteps: 5, batchSize: 32 });
    expect(ppo.critic).toBe("detached");
    const learned = VeRLConfig.parse(
      rlConfig({
        ...base,
        algorithm: "ppo",
        settings: LEARNED_POSITIONS_RL_SETTINGS,
        ppo: LEARNED_POSITIONS_PPO_RECIPE,
      }),
    );
    expect(learned).toMatchObject({ learningRate: 2.5e-4, criticWarmupSteps: 0 });
  });
});
