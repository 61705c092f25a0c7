import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../backend/init-backend.js";
import { VeRLAlgorithm } from "../config/verl-algorithm.js";
import type { VeRLDatasetInput } from "./dataset-input.js";
import { VeRLTrainer } from "./verl-trainer.js";

const config = {
  algorithm: VeRLAlgorithm.GRPO,
  epochs: 1,
  batchSize: 2,
  maxNewTokens: 2,
  model: { dModel: 8, nHeads: 2, nLayers: 1, dMlp: 16, contextLength: 16 },
};
const rewards = [{ name: "has-a", weight: 1, fn: (output: string) => (output.includes("a") ? 1 : 0) }];
const prompts = ["ab", "ba", "aab", "bba", "abab", "baba"];

beforeAll(async () => {
  await initBackend();
});

describe("VeRLTrainer.train(dataset)", () => {
  it("trains on the dataset it is given, over the constructor's", async () => {
    const trainer = new VeRLTrainer({ config, rewards, dataset: prompts.slice(0, 2) });
    try {
      const metrics = await trainer.train(prompts);
      expect(trainer.dataset).toBe(prompts);
      expect([trainer.progress.step, metrics.steps]).toEqual([3, 3]); // 6 prompts in batches of 2
    } finally {
      await trainer.dispose();
    }
  });

  it("trains on what a subclass passes to super.train, not on what the caller passed", async () => {
    const seen: unknown[] = [];
    class FirstFour extends VeRLTrainer {
      override async train(dataset?: VeRLDatasetInput) {
        seen.push(this.state);
        return super.train((dataset as string[]).slice(0, 4));
      }
    }
    const trainer = new FirstFour({ config, rewards });
    try {
      const metrics = await trainer.train(prompts);
      expect(seen).toEqual(["training"]);
      expect([trainer.progress.step, metrics.steps]).toEqual([2, 2]); // 4 prompts in batches of 2
      expect(trainer.dataset).toEqual(prompts.slice(0, 4));
      expect(trainer.state).toBe("trained");
    } finally {
      await trainer.dispose();
    }
  });
});
