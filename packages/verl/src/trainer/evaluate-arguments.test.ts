import { InvalidArgumentError } from "@orbiter/types";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../backend/init-backend.js";
import { VeRLAlgorithm } from "../config/verl-algorithm.js";
import type { EvaluateOptions } from "./evaluate-policy.js";
import { VeRLTrainer } from "./verl-trainer.js";

const config = {
  algorithm: VeRLAlgorithm.GRPO,
  epochs: 1,
  batchSize: 2,
  maxNewTokens: 2,
  workers: 1,
  model: { dModel: 8, nHeads: 2, nLayers: 1, dMlp: 16, contextLength: 16 },
};
const rewards = [{ name: "has-a", weight: 1, fn: (output: string) => (output.includes("a") ? 1 : 0) }];
const prompts = ["ab", "ba"];

beforeAll(async () => {
  await initBackend();
});

describe("VeRLTrainer.evaluate(testSet, options) with bad arguments", () => {
  it("throws InvalidArgumentError naming the field and leaves a trained trainer trained", async () => {
    const trainer = new VeRLTrainer({ config, rewards, dataset: prompts });
    try {
      await trainer.train();
      const cases: Array<[unknown, unknown, string]> = [
        [[{ prompt: "ab" }], undefined, "testSet[0].input"],
        [[], undefined, "testSet"],
        [prompts, { greddy: true }, "options.greddy"],
        [prompts, { batchSize: 0 }, "options.batchSize"],
      ];
      for (const [testSet, options, field] of cases) {
        const error = await trainer
          .evaluate(testSet as string[], options as EvaluateOptions)
          .catch((caught: unknown) => caught);
        expect(
          InvalidArgumentError.isInstance(error),
          `${String(error)} ${JSON.stringify(testSet)} ${JSON.stringify(options)}`,
        ).toBe(true);
        expect((error as InvalidArgumentError).field).toBe(field);
        expect(trainer.state).toBe("trained");
      }
      const metrics = await trainer.evaluate(prompts);
      expect(Number.isFinite(metrics.reward)).toBe(true);
      expect(trainer.state).toBe("complete");
    } finally {
      await trainer.dispose();
    }
  });

  it("resolves a test set once per call (one toSamples()), and anew on the next call", async () => {
    let calls = 0;
    let tasks = ["ab"];
    const testSet = {
      toSamples: () => {
        calls++;
        return tasks.map((input, index) => ({ id: `t${index}`, input, output: "", metadata: {} }));
      },
    };
    const trainer = new VeRLTrainer({ config, rewards, dataset: prompts });
    try {
      await trainer.train();
      const first = await trainer.evaluate(testSet);
      expect(calls).toBe(1);
      expect(first.extra?.["eval/samples"]).toBe(1);
      tasks = ["ab", "ba", "aa"];
      const second = await trainer.evaluate(testSet);
      expect(calls).toBe(2);
      expect(second.extra?.["eval/samples"]).toBe(3);
    } finally {
      await trainer.dispose();
    }
  });
});
