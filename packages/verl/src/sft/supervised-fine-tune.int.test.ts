import { SeededRandom } from "@orbiter/types";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../backend/init-backend.js";
import { backendsForTests } from "../internal/testing/test-backends.js";
import { TransformerPolicy } from "../model/transformer-policy.js";
import { CharTokenizer } from "../tokenizer/char-tokenizer.js";
import { supervisedFineTune } from "./supervised-fine-tune.js";

const backends = await backendsForTests();
const tokenizer = CharTokenizer.fromCorpus(["abcdef>"]);

function copySamples(count: number, seed: number): Array<{ input: string; output: string }> {
  const rng = new SeededRandom(seed);
  return Array.from({ length: count }, () => {
    const text = Array.from({ length: 4 }, () => rng.choice(["a", "b", "c", "d", "e", "f"])).join("");
    return { input: `${text}>`, output: text };
  });
}

describe.each(backends)("supervisedFineTune on %s (copy task)", (backend) => {
  beforeAll(async () => {
    await initBackend({ backend });
  });

  it("learns a copy task to at least 95% token accuracy", async () => {
    const policy = new TransformerPolicy({
      tokenizer,
      config: { contextLength: 12, dModel: 32, nHeads: 2, nLayers: 2, dMlp: 64 },
      seed: 1,
    });
    const losses: number[] = [];
    const result = await supervisedFineTune(policy, copySamples(64, 2), {
      epochs: 30,
      batchSize: 32,
      learningRate: 1e-2,
      seed: 3,
      onStep: (metrics) => {
        losses.push(metrics.loss);
      },
    });
    expect(result.steps).toBe(60);
    expect(result.history).toHaveLength(60);
    expect(result.tokenAccuracy).toBeGreaterThanOrEqual(0.95);
    expect(losses[losses.length - 1]!).toBeLessThan(losses[0]! / 5);
    // The trained policy copies unseen strings when decoding greedily.
    const test = copySamples(20, 99);
    const rollout = await policy.generate(
      test.map((s) => s.input),
      { maxNewTokens: 5, greedy: true },
    );
    const exact = rollout.texts.filter((text, i) => text === test[i]!.output).length;
    expect(exact / test.length).toBeGreaterThanOrEqual(0.8);
    policy.dispose();
  });
});
