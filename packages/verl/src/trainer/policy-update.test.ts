import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LossAggregation } from "../algorithms/loss-aggregation.js";
import { initBackend } from "../backend/init-backend.js";
import { VeRLConfig } from "../config/verl-config.js";
import { expectSameGradients, gradientRecorder } from "../internal/testing/gradient-recorder.js";
import { movedPolicyPair } from "../internal/testing/policy-pair.js";
import type { TransformerPolicy } from "../model/transformer-policy.js";
import { CharTokenizer } from "../tokenizer/char-tokenizer.js";
import { runPolicyUpdate } from "./policy-update.js";
import { buildRolloutBatch, type RolloutBatch } from "./rollout-batch.js";

let policy: TransformerPolicy;
let reference: TransformerPolicy;

beforeAll(async () => {
  await initBackend();
  const tokenizer = CharTokenizer.fromCorpus(["abcd"]);
  ({ policy, reference } = movedPolicyPair(tokenizer));
});

afterAll(() => {
  policy.dispose();
  reference.dispose();
});

async function rollout(config: VeRLConfig): Promise<RolloutBatch> {
  // Variable lengths: stopping at EOS leaves ragged masks, so micro-batches hold different token counts.
  const generation = await policy.generate(["ab", "cd", "a"], {
    n: 4,
    maxNewTokens: 5,
    seed: 3,
    temperature: 1.5,
  });
  return buildRolloutBatch({
    config,
    policy,
    reference,
    generation,
    scores: generation.texts.map((text, i) => (i === 5 ? null : text.length % 3)),
    scoresAreAdvantages: false,
    klCoef: 0.1,
  }).batch;
}

describe("runPolicyUpdate", () => {
  it.each<[string, LossAggregation]>([
    ["ppo", "token-mean"],
    ["ppo", "seq-mean-token-mean"],
    ["grpo", "seq-mean-token-sum"],
    ["grpo", "seq-mean-token-sum-norm"],
  ])(
    "%s with %s: micro-batches of 2 give the gradient and metrics of one pass",
    async (algorithm, lossAggregation) => {
      const base = {
        algorithm,
        batchSize: 3,
        groupSize: 4,
        ppoEpochs: 1,
        klCoef: 0.1,
        klPlacement: "loss",
        lossAggregation,
        gradClip: 1e9,
      } as const;
      const whole = VeRLConfig.parse(base);
      const split = VeRLConfig.parse({ ...base, microBatchSize: 2 });
      expect(split.microBatchSize).toBe(2);
      const batch = await rollout(whole);
      const before = tf.memory().numTensors;
      const one = gradientRecorder();
      const many = gradientRecorder();
      const a = await runPolicyUpdate({
        config: whole,
        policy,
        batch,
        klCoef: 0.1,
        learningRate: 0,
        optimizer: one,
        seed: 1,
      });
      const b = await runPolicyUpdate({
        config: split,
        policy,
        batch,
        klCoef: 0.1,
        learningRate: 0,
        optimizer: many,
        seed: 1,
      });
      expect(tf.memory().numTensors).toBe(before);
      batch.dispose();
      for (const name of [
        "actor/pg_loss",
        "actor/entropy",
        "actor/kl_loss",
        "actor/ppo_kl",
        "actor/approx_kl",
        "actor/pg_clipfrac",
        "actor/grad_norm",
      ]) {
        expect(b.metrics[name] as number, name).toBeCloseTo(a.metrics[name] as number, 5);
      }
      expect(b.loss).toBeCloseTo(a.loss, 5);
      expectSameGradients(many, one);
    },
  );
});

describe("runPolicyUpdate on failure", () => {
  it("frees the gradients accumulated by earlier micro-batches when a later one throws", async () => {
    const config = VeRLConfig.parse({ algorithm: "grpo", batchSize: 3, groupSize: 4, microBatchSize: 4 });
    const batch = await rollout(config);
    let calls = 0;
    // The policy's second forward (the second micro-batch) fails.
    const failing = new Proxy(policy, {
      get(target, property) {
        if (property === "logProbs") {
          return (input: Parameters<TransformerPolicy["logProbs"]>[0]) => {
            calls++;
            if (calls === 2) throw new Error("forward failed");
            return target.logProbs(input);
          };
        }
        const value = Reflect.get(target, property, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const before = tf.memory().numTensors;
    await expect(
      runPolicyUpdate({
        config,
        policy: failing,
        batch,
        klCoef: 0.1,
        learningRate: 0,
        optimizer: gradientRecorder(),
        seed: 1,
      }),
    ).rejects.toThrow("forward failed");
    expect(calls).toBe(2);
    expect(tf.memory().numTensors).toBe(before);
    batch.dispose();
  });
});

describe("buildRolloutBatch", () => {
  it("frees the tensors it kept when it throws", async () => {
    const config = VeRLConfig.parse({ algorithm: "ppo", batchSize: 3, groupSize: 4, klCoef: 0.1 });
    const generation = await policy.generate(["ab", "cd", "a"], { n: 4, maxNewTokens: 5, seed: 3 });
    const before = tf.memory().numTensors;
    // One score short: the response mask cannot take the validity column, after tokens and masks were kept.
    const scores = generation.texts.slice(1).map(() => 1);
    expect(() =>
      buildRolloutBatch({
        config,
        policy,
        reference,
        generation,
        scores,
        scoresAreAdvantages: false,
        klCoef: 0.1,
      }),
    ).toThrow();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses klPlacement "reward" on scores that are already advantages, naming the option, and frees its tensors', async () => {
    const generation = await policy.generate(["ab", "cd"], { n: 2, maxNewTokens: 3, seed: 5 });
    const input = {
      policy,
      reference,
      generation,
      scores: [1, -1, 0.5, -0.5],
      scoresAreAdvantages: true,
    };
    const inReward = VeRLConfig.parse({
      algorithm: "grpo",
      batchSize: 2,
      groupSize: 2,
      klPlacement: "reward",
    });
    const before = tf.memory().numTensors;
    expect(() => buildRolloutBatch({ ...input, config: inReward, klCoef: 0.1 })).toThrow(
      expect.objectContaining({ name: "InvalidArgumentError", field: "config.klPlacement" }),
    );
    expect(tf.memory().numTensors).toBe(before);
    // Without a penalty to place (β = 0) the advantages pass through as given.
    const { batch } = buildRolloutBatch({ ...input, config: inReward, klCoef: 0 });
    const firstToken = (batch.advantages.arraySync() as number[][]).map((row) => row[0]);
    batch.dispose();
    expect(firstToken).toEqual([1, -1, 0.5, -0.5]);
  });
});
