import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../backend/init-backend.js";
import type { HostTensor } from "../checkpoint/host-tensor.js";
import { type CriticMode, resolveCriticMode } from "../config/critic-mode.js";
import { VeRLConfig } from "../config/verl-config.js";
import { changedParameters as changed } from "../internal/testing/changed-parameters.js";
import { movedPolicyPair } from "../internal/testing/policy-pair.js";
import { tinyModel } from "../internal/testing/tiny-trainer-config.js";
import type { TransformerPolicy } from "../model/transformer-policy.js";
import { AdamOptimizer } from "../optim/adam-optimizer.js";
import { CharTokenizer } from "../tokenizer/char-tokenizer.js";
import { runPolicyUpdate } from "./policy-update.js";
import { buildRolloutBatch } from "./rollout-batch.js";
import { VeRLTrainer } from "./verl-trainer.js";

let policy: TransformerPolicy;
let reference: TransformerPolicy;
let start: Map<string, HostTensor>;

beforeAll(async () => {
  await initBackend();
  ({ policy, reference } = movedPolicyPair(CharTokenizer.fromCorpus(["abcd"])));
  start = policy.getWeights();
});

afterAll(() => {
  policy.dispose();
  reference.dispose();
});

/** The policy's logits on a fixed batch, on the host. */
function logitsOf(model: TransformerPolicy): Float32Array {
  return tf.tidy(() => {
    const tokens = tf.tensor2d([[1, 2, 3, 4, 2, 1]], [1, 6], "int32");
    return model.forward({ tokens }).logits.dataSync() as Float32Array;
  });
}

/**
 * One PPO update in which the policy-gradient term is zero (every advantage 0, no KL in the loss, no entropy
 * bonus), so that only the value loss can move anything; returns the names of the parameters it changed and
 * whether the policy's logits changed.
 */
async function valueLossOnlyUpdate(critic: CriticMode): Promise<{ moved: string[]; logitsChanged: boolean }> {
  policy.setWeights(start);
  const config = VeRLConfig.parse({ algorithm: "ppo", batchSize: 3, ppoEpochs: 2, miniBatchSize: 1, critic });
  const generation = await policy.generate(["ab", "cd", "a"], { maxNewTokens: 5, seed: 3 });
  const { batch } = buildRolloutBatch({
    config,
    policy,
    reference,
    generation,
    // Returns far from the fresh head's values: a large value loss.
    scores: [5, -4, 3],
    scoresAreAdvantages: false,
    klCoef: 0,
  });
  const zero = tf.zerosLike(batch.advantages);
  const optimizer = new AdamOptimizer(policy.parameters(), { learningRate: 1e-2 });
  try {
    const logits = logitsOf(policy);
    const before = tf.memory().numTensors;
    const result = await runPolicyUpdate({
      config,
      policy,
      batch: { ...batch, advantages: zero },
      klCoef: 0,
      learningRate: 1e-2,
      optimizer,
      seed: 1,
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(result.metrics["critic/vf_loss"]).toBeGreaterThan(1);
    const after = logitsOf(policy);
    return {
      moved: changed(start, policy.getWeights()),
      logitsChanged: after.some((x, i) => !Object.is(x, logits[i])),
    };
  } finally {
    zero.dispose();
    batch.dispose();
    optimizer.dispose();
  }
}

describe("VeRLConfig.critic", () => {
  it('defaults to "auto": shared for a fresh policy, detached for a warm start; explicit modes stay', () => {
    expect(VeRLConfig.parse({}).critic).toBe("auto");
    expect(() => VeRLConfig.parse({ critic: "separate" })).toThrow(/critic/);
    expect(resolveCriticMode("auto", true)).toBe("shared");
    expect(resolveCriticMode("auto", false)).toBe("detached");
    for (const fresh of [true, false]) {
      expect(resolveCriticMode("shared", fresh)).toBe("shared");
      expect(resolveCriticMode("detached", fresh)).toBe("detached");
    }
  });

  it('the trainer resolves "auto" when training starts: shared on the policy it builds, detached on one given', async () => {
    const config = {
      algorithm: "ppo",
      batchSize: 2,
      maxNewTokens: 2,
      maxSteps: 1,
      model: tinyModel,
    } as const;
    const rewards = [{ name: "len", fn: (output: string) => output.length }];
    const fresh = new VeRLTrainer({ config, rewards, dataset: ["ab", "cd"] });
    expect(fresh.config.critic).toBe("auto");
    await fresh.train();
    expect(fresh.config.critic).toBe("shared");
    const dir = await mkdtemp(join(tmpdir(), "critic-mode-"));
    try {
      await fresh.saveCheckpoint(dir);
      await fresh.dispose();
      // A resumed run keeps the mode it trained with.
      const resumed = new VeRLTrainer({ config: { ...config, maxSteps: 2 }, rewards, dataset: ["ab", "cd"] });
      await resumed.resume(dir);
      await resumed.train();
      expect(resumed.config.critic).toBe("shared");
      await resumed.dispose();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    policy.setWeights(start);
    const warm = new VeRLTrainer({
      policy,
      config: { ...config, model: undefined },
      rewards,
      dataset: ["ab", "cd"],
    });
    await warm.train();
    expect(warm.config.critic).toBe("detached");
    await warm.dispose();
    const explicit = new VeRLTrainer({ config: { ...config, critic: "detached" }, rewards, dataset: ["ab"] });
    await explicit.train();
    expect(explicit.config.critic).toBe("detached");
    await explicit.dispose();
  });

  it("detached: the value loss trains the value head and leaves the policy's logits bit for bit", async () => {
    const { moved, logitsChanged } = await valueLossOnlyUpdate("detached");
    expect(moved).toEqual(["value_head.bias", "value_head.weight"]);
    expect(logitsChanged).toBe(false);
  });

  it("shared: the same value loss moves the trunk and changes the policy's logits", async () => {
    const { moved, logitsChanged } = await valueLossOnlyUpdate("shared");
    expect(moved).toContain("value_head.weight");
    expect(
      moved.filter((name) => name.startsWith("blocks.") || name.startsWith("final_ln")).length,
    ).toBeGreaterThan(0);
    expect(logitsChanged).toBe(true);
  });
});
