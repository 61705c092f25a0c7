import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../backend/init-backend.js";
import type { HostTensor } from "../checkpoint/host-tensor.js";
import { VeRLConfig, type VeRLConfigInput } from "../config/verl-config.js";
import { changedParameters as changed } from "../internal/testing/changed-parameters.js";
import { countA } from "../internal/testing/count-a-reward.js";
import { movedPolicyPair } from "../internal/testing/policy-pair.js";
import { TransformerPolicy } from "../model/transformer-policy.js";
import { AdamOptimizer } from "../optim/adam-optimizer.js";
import { CharTokenizer } from "../tokenizer/char-tokenizer.js";
import { stepLearningRate } from "./critic-warm-up.js";
import { runPolicyUpdate } from "./policy-update.js";
import { buildRolloutBatch } from "./rollout-batch.js";
import { VeRLTrainer } from "./verl-trainer.js";

const tiny = { dModel: 16, nHeads: 2, nLayers: 1, dMlp: 32, contextLength: 16 };
const prompts = ["ab", "ba", "aab", "bba", "abab", "b"];
const isCritic = (name: string) => name.startsWith("value_head.");

beforeAll(async () => {
  await initBackend();
});

describe("runPolicyUpdate with criticOnly", () => {
  const tokenizer = CharTokenizer.fromCorpus(["abcd"]);
  const { policy, reference } = movedPolicyPair(tokenizer);
  afterAll(() => {
    policy.dispose();
    reference.dispose();
  });

  it("changes the value head only and leaves the policy's Adam moments at zero; a normal update moves the rest", async () => {
    const config = VeRLConfig.parse({ algorithm: "ppo", batchSize: 3, ppoEpochs: 2, miniBatchSize: 1 });
    const generation = await policy.generate(["ab", "cd", "a"], { maxNewTokens: 5, seed: 3 });
    const { batch } = buildRolloutBatch({
      config,
      policy,
      reference,
      generation,
      scores: [1, 0, 0.5],
      scoresAreAdvantages: false,
      klCoef: 0.05,
    });
    const optimizer = new AdamOptimizer(policy.parameters(), { learningRate: 1e-2 });
    try {
      const start = policy.getWeights();
      const before = tf.memory().numTensors;
      const warm = await runPolicyUpdate({
        config,
        policy,
        batch,
        klCoef: 0.05,
        learningRate: 1e-2,
        optimizer,
        seed: 1,
        criticOnly: true,
      });
      expect(tf.memory().numTensors).toBe(before);
      expect(warm.applied).toBe(6);
      expect(warm.metrics["critic/warmup"]).toBe(1);
      expect(warm.metrics["critic/vf_loss"]).toBeGreaterThan(0);
      const afterWarm = policy.getWeights();
      expect(changed(start, afterWarm).sort()).toEqual(["value_head.bias", "value_head.weight"]);
      for (const [name, { m, v }] of optimizer.getState().moments) {
        const untouched = m.data.every((x) => x === 0) && v.data.every((x) => x === 0);
        expect(untouched, name).toBe(!isCritic(name));
      }
      const normal = await runPolicyUpdate({
        config,
        policy,
        batch,
        klCoef: 0.05,
        learningRate: 1e-2,
        optimizer,
        seed: 1,
      });
      expect(normal.metrics["critic/warmup"]).toBe(0);
      const moved = changed(afterWarm, policy.getWeights());
      expect(moved.filter((name) => !isCritic(name)).length).toBe(start.size - 2);
    } finally {
      batch.dispose();
      optimizer.dispose();
    }
  });
});

/** Trains 3 PPO steps with `workers` threads; the weights after each step, and each step's metrics. */
async function trainWithWarmUp(config: VeRLConfigInput, workers: number) {
  const tokenizer = CharTokenizer.fromCorpus(prompts);
  const valueHead = config.algorithm !== "grpo";
  const policy = new TransformerPolicy({ tokenizer, config: { ...tiny, valueHead }, seed: 4 });
  const weights = [policy.getWeights()];
  const metrics: Array<Record<string, number>> = [];
  const trainer = new VeRLTrainer({
    policy,
    config: { maxNewTokens: 4, learningRate: 3e-3, epochs: 3, maxSteps: 3, seed: 5, workers, ...config },
    rewards: [countA],
    onStep: ({ metrics: step }) => {
      metrics.push(step.extra ?? {});
      weights.push(policy.getWeights());
    },
  });
  await trainer.train(prompts);
  const participants = trainer.workerCount;
  await trainer.dispose();
  policy.dispose();
  return { weights, metrics, participants };
}

describe("VeRLTrainer with criticWarmupSteps", () => {
  const ppo = {
    algorithm: "ppo",
    batchSize: 6,
    miniBatchSize: 3,
    criticWarmupSteps: 2,
    warmupSteps: 2,
    lrSchedule: "linear-warmup",
  } as const;

  it.each([1, 2])(
    "with %i thread(s): the first 2 PPO steps change only the value head, the third moves the policy",
    async (workers) => {
      const run = await trainWithWarmUp(ppo, workers);
      expect(run.participants).toBe(workers);
      expect(run.metrics.map((step) => step["critic/warmup"])).toEqual([1, 1, 0]);
      // Critic-only steps train at the peak rate; the policy's own warm-up starts after them.
      expect(run.metrics.map((step) => step["actor/lr"])).toEqual([3e-3, 3e-3, 1.5e-3]);
      const [start, first, second, third] = run.weights as Map<string, HostTensor>[];
      const critic = ["value_head.bias", "value_head.weight"];
      expect(changed(start as Map<string, HostTensor>, first as Map<string, HostTensor>).sort()).toEqual(
        critic,
      );
      expect(changed(first as Map<string, HostTensor>, second as Map<string, HostTensor>).sort()).toEqual(
        critic,
      );
      const moved = changed(second as Map<string, HostTensor>, third as Map<string, HostTensor>);
      expect(moved.length).toBe((start as Map<string, HostTensor>).size);
    },
  );

  it("is ignored without a critic: GRPO moves the policy from the first step", async () => {
    const run = await trainWithWarmUp(
      { algorithm: "grpo", batchSize: 3, groupSize: 4, criticWarmupSteps: 2 },
      1,
    );
    expect(run.metrics[0]?.["critic/warmup"]).toBeUndefined();
    const [start, first] = run.weights as Map<string, HostTensor>[];
    expect(changed(start as Map<string, HostTensor>, first as Map<string, HostTensor>).length).toBe(
      start?.size,
    );
  });
});

describe("VeRLConfig.criticWarmupSteps", () => {
  it("defaults to 0 and refuses a negative or fractional count, naming the field", () => {
    expect(VeRLConfig.parse({}).criticWarmupSteps).toBe(0);
    for (const bad of [-1, 1.5]) {
      const result = VeRLConfig.safeParse({ criticWarmupSteps: bad });
      expect(result.success).toBe(false);
      expect(result.error?.issues[0]?.path).toEqual(["criticWarmupSteps"]);
    }
  });
});

describe("stepLearningRate", () => {
  it("holds the peak during the critic warm-up, then runs the schedule from the first policy step", () => {
    const config = VeRLConfig.parse({
      algorithm: "ppo",
      learningRate: 1e-3,
      criticWarmupSteps: 3,
      warmupSteps: 2,
    });
    const rates = Array.from({ length: 8 }, (_, step) => stepLearningRate(step, config, 8));
    expect(rates.slice(0, 3)).toEqual([1e-3, 1e-3, 1e-3]);
    expect(rates[3]).toBeCloseTo(5e-4, 12);
    expect(rates[4]).toBeCloseTo(1e-3, 12);
    // The cosine reaches minLearningRate (0) at the last step of the 5 policy steps.
    expect(rates[7]).toBeCloseTo(0, 12);
    const grpo = VeRLConfig.parse({
      algorithm: "grpo",
      learningRate: 1e-3,
      criticWarmupSteps: 3,
      warmupSteps: 2,
    });
    expect(stepLearningRate(0, grpo, 8)).toBeCloseTo(5e-4, 12);
  });
});
