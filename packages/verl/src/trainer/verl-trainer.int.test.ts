import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Sample } from "@orbiter/types";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../backend/init-backend.js";
import type { VeRLConfigInput } from "../config/verl-config.js";
import type { Policy } from "../model/policy.js";
import { TransformerPolicy } from "../model/transformer-policy.js";
import { parseRewardSpecs } from "../rewards/reward-spec.js";
import { supervisedFineTune } from "../sft/supervised-fine-tune.js";
import { CharTokenizer } from "../tokenizer/char-tokenizer.js";
import { evaluatePolicy } from "./evaluate-policy.js";
import { VeRLTrainer } from "./verl-trainer.js";

// Single-digit addition: "3+4=" → "7". A small transformer is fine-tuned briefly (it answers some sums, and
// samples many wrong answers at temperature 1); RL must then raise the reward of its own samples.
const additions = Array.from({ length: 100 }, (_, i) => {
  const a = Math.floor(i / 10);
  const b = i % 10;
  return { input: `${a}+${b}=`, output: String(a + b) };
});
const exact = {
  name: "exact",
  weight: 1,
  fn: (output: string, sample: { output: string }) => (output === sample.output ? 1 : 0),
};

let dir: string;
let start: TransformerPolicy;

beforeAll(async () => {
  await initBackend();
  dir = await mkdtemp(join(tmpdir(), "verl-int-"));
  const tokenizer = CharTokenizer.fromCorpus(["0123456789+="]);
  start = new TransformerPolicy({
    tokenizer,
    config: { dModel: 64, nHeads: 4, nLayers: 2, dMlp: 128, contextLength: 16, valueHead: true },
    seed: 1,
  });
  await supervisedFineTune(start, additions, { epochs: 30, batchSize: 32, learningRate: 1e-3, seed: 1 });
});

afterAll(async () => {
  start.dispose();
  await rm(dir, { recursive: true, force: true });
});

/** Mean reward of 4 sampled answers (temperature 1) to each of the 100 sums. */
async function sampledReward(policy: Policy): Promise<number> {
  const evaluation = await evaluatePolicy({
    policy,
    rewards: parseRewardSpecs([exact]),
    samples: additions.map((sample) => Sample.parse(sample)),
    maxNewTokens: 3,
    temperature: 1,
    topK: 0,
    topP: 1,
    accuracyThreshold: 1,
    onRewardError: "throw",
    seed: 0,
    options: { greedy: false, samplesPerPrompt: 4, seed: 99 },
  });
  return evaluation.reward;
}

interface Learned {
  before: number;
  after: number;
  maxKl: number;
  policy: Policy;
}

async function learn(config: VeRLConfigInput): Promise<Learned> {
  const policy = start.clone();
  let maxKl = 0;
  const trainer = new VeRLTrainer({
    policy,
    config,
    rewards: [exact],
    onStep: ({ metrics }) => {
      maxKl = Math.max(maxKl, metrics.extra?.["actor/reference_kl"] ?? 0);
    },
  });
  const before = await sampledReward(policy);
  await trainer.train(additions);
  const after = await sampledReward(policy);
  const evaluation = await trainer.evaluate(additions, { greedy: false, samplesPerPrompt: 4, seed: 99 });
  expect(evaluation.reward).toBeCloseTo(after, 10);
  trainer.dispose();
  console.log(
    `${config.algorithm}: sampled reward ${before.toFixed(4)} → ${after.toFixed(4)}, max KL ${maxKl.toFixed(3)}`,
  );
  return { before, after, maxKl, policy };
}

describe("VeRLTrainer learns", () => {
  it("GRPO raises the mean reward of sampled answers on single-digit addition", async () => {
    const { before, after, maxKl, policy } = await learn({
      algorithm: "grpo",
      batchSize: 16,
      groupSize: 8,
      ppoEpochs: 4,
      miniBatchSize: 64,
      learningRate: 3e-4,
      maxNewTokens: 3,
      epochs: 10,
      maxSteps: 35,
      seed: 1,
    });
    expect(after).toBeGreaterThan(before + 0.1);
    expect(maxKl).toBeLessThan(1);
    expect(maxKl).toBeGreaterThan(0);
    policy.dispose();
  });

  it("PPO (critic + GAE, KL in the reward) raises the mean reward with the KL to the reference bounded", async () => {
    const { before, after, maxKl, policy } = await learn({
      algorithm: "ppo",
      batchSize: 64,
      ppoEpochs: 4,
      miniBatchSize: 32,
      learningRate: 3e-4,
      maxNewTokens: 3,
      epochs: 40,
      maxSteps: 35,
      seed: 1,
    });
    expect(after).toBeGreaterThan(before + 0.1);
    expect(maxKl).toBeLessThan(1);
    policy.dispose();
  });
});

describe("VeRLTrainer critic", () => {
  it("learns the value of a reward it can predict (explained variance near 1)", async () => {
    const explained: number[] = [];
    const trainer = new VeRLTrainer({
      config: {
        algorithm: "ppo",
        batchSize: 8,
        maxNewTokens: 4,
        epochs: 60,
        learningRate: 1e-3,
        // A critic trained from scratch: the default warm-up (there to protect a warm start) would only delay it.
        warmupSteps: 0,
        klCoef: 0,
        model: { dModel: 32, nHeads: 2, nLayers: 1, dMlp: 64 },
        seed: 1,
      },
      // The reward depends on the prompt only, so a good critic predicts it from the first token on.
      rewards: [
        {
          name: "prompt-a",
          fn: (_output: string, sample: { input: string }) => (sample.input.startsWith("a") ? 1 : 0),
        },
      ],
      onStep: ({ metrics }) => {
        explained.push(metrics.extra?.["critic/vf_explained_var"] as number);
      },
    });
    await trainer.train(["a1", "a2", "a3", "a4", "b1", "b2", "b3", "b4"]);
    const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
    expect(mean(explained.slice(0, 5))).toBeLessThan(0.5);
    expect(mean(explained.slice(-10))).toBeGreaterThan(0.8);
    trainer.dispose();
  });
});

describe("VeRLTrainer checkpoints and memory", () => {
  const tiny = { dModel: 16, nHeads: 2, nLayers: 1, dMlp: 32, contextLength: 16 };
  const prompts = ["ab", "ba", "aab", "bba", "abab", "b"];
  const countA = { name: "count-a", fn: (output: string) => [...output].filter((c) => c === "a").length };

  it("10 steps straight and 5 + resume + 5 give identical weights (PPO with Adam, KL and shuffled mini-batches)", async () => {
    const config = (checkpointDir: string): VeRLConfigInput => ({
      algorithm: "ppo",
      batchSize: 4,
      ppoEpochs: 2,
      miniBatchSize: 2,
      maxNewTokens: 4,
      learningRate: 3e-3,
      adaptiveKl: { target: 0.01, horizon: 100 },
      epochs: 10,
      maxSteps: 10,
      saveEvery: 5,
      checkpointDir,
      model: tiny,
      seed: 7,
    });
    const straight = new VeRLTrainer({ config: config(join(dir, "straight")), rewards: [countA] });
    await straight.train(prompts);
    const expected = straight.policy?.getWeights() as Map<string, { data: Float32Array }>;
    const beta = straight.klCoef;
    straight.dispose();

    const resumed = new VeRLTrainer({ config: config(join(dir, "resumed")), rewards: [countA] });
    await resumed.resume(join(dir, "straight", "step-5"));
    expect(resumed.progress.step).toBe(5);
    await resumed.train(prompts);
    expect(resumed.progress.step).toBe(10);
    const actual = resumed.policy?.getWeights() as Map<string, { data: Float32Array }>;
    expect([...actual.keys()]).toEqual([...expected.keys()]);
    for (const [name, tensor] of expected) {
      expect(Array.from(actual.get(name)?.data ?? []), name).toEqual(Array.from(tensor.data));
    }
    expect(resumed.klCoef).toBe(beta);
    resumed.dispose();

    const otherData = new VeRLTrainer({ config: config(join(dir, "other")), rewards: [countA] });
    await otherData.resume(join(dir, "straight", "step-5"));
    await expect(otherData.train(prompts.slice(1))).rejects.toThrow(/resume with the same data/);
    otherData.dispose();

    // A checkpoint that does not fit the given policy is refused, and what was loaded from it is freed.
    const narrow = new TransformerPolicy({
      tokenizer: CharTokenizer.fromCorpus(prompts),
      config: { ...tiny, dModel: 8, valueHead: true },
    });
    const mismatched = new VeRLTrainer({
      policy: narrow,
      config: config(join(dir, "mismatched")),
      rewards: [countA],
    });
    const tensors = tf.memory().numTensors;
    await expect(mismatched.resume(join(dir, "straight", "step-5"))).rejects.toThrow(/shape/);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(mismatched.progress.step).toBe(0);
    mismatched.dispose();
    narrow.dispose();
  });

  it("leaks no tensors over 100 training steps", async () => {
    const counts: number[] = [];
    const trainer = new VeRLTrainer({
      config: {
        algorithm: "grpo",
        batchSize: 2,
        groupSize: 2,
        maxNewTokens: 3,
        epochs: 100,
        maxSteps: 100,
        model: tiny,
      },
      rewards: [countA],
      onStep: () => {
        counts.push(tf.memory().numTensors);
      },
    });
    await trainer.train(prompts.slice(0, 2));
    expect(counts).toHaveLength(100);
    expect(counts[99]).toBe(counts[0]);
    trainer.dispose();
  });
});
