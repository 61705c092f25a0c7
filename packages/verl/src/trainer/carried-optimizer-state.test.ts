import { CheckpointError } from "@orbiter/types";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../backend/init-backend.js";
import { countA } from "../internal/testing/count-a-reward.js";
import { TransformerPolicy } from "../model/transformer-policy.js";
import type { AdamState } from "../optim/adam-optimizer.js";
import { CharTokenizer } from "../tokenizer/char-tokenizer.js";
import { VeRLTrainer } from "./verl-trainer.js";

const prompts = ["ab", "ba", "aab", "bba"];

beforeAll(async () => {
  await initBackend();
});

function newPolicy(): TransformerPolicy {
  return new TransformerPolicy({
    tokenizer: CharTokenizer.fromCorpus(prompts),
    config: { dModel: 16, nHeads: 2, nLayers: 1, dMlp: 32, contextLength: 16 },
    seed: 3,
  });
}

/** A state with m = 0 and v = `v` on every trainable parameter of `policy`, after `step` updates. */
function stateOf(policy: TransformerPolicy, v: number, step: number): AdamState {
  const moments: AdamState["moments"] = new Map();
  for (const { name, variable } of policy.parameters()) {
    if (!variable.trainable) continue;
    const shape = [...variable.shape];
    moments.set(name, {
      m: { shape, data: new Float32Array(variable.size) },
      v: { shape, data: new Float32Array(variable.size).fill(v) },
    });
  }
  return { step, moments };
}

/** One GRPO step at lr 1e-2 without warm-up; returns the largest single weight change. */
async function oneStep(state: (policy: TransformerPolicy) => AdamState | undefined): Promise<number> {
  const policy = newPolicy();
  const before = policy.getWeights();
  const optimizerState = state(policy);
  const trainer = new VeRLTrainer({
    policy,
    config: {
      algorithm: "grpo",
      batchSize: 4,
      groupSize: 4,
      maxNewTokens: 4,
      learningRate: 1e-2,
      warmupSteps: 0,
      maxSteps: 1,
      seed: 5,
    },
    rewards: [countA],
    ...(optimizerState ? { optimizerState } : {}),
  });
  try {
    await trainer.train(prompts);
    let largest = 0;
    for (const [name, tensor] of policy.getWeights()) {
      const previous = (before.get(name) as { data: Float32Array }).data;
      tensor.data.forEach((value, i) => {
        largest = Math.max(largest, Math.abs(value - (previous[i] as number)));
      });
    }
    return largest;
  } finally {
    trainer.dispose();
    policy.dispose();
  }
}

describe("VeRLTrainer optimizerState", () => {
  it("starts Adam from the given moments: a large carried v makes the first step small", async () => {
    // Fresh Adam moves some weight by the full learning rate on its first step (lr · g / |g|).
    const fresh = await oneStep(() => undefined);
    expect(fresh).toBeGreaterThan(0.99e-2);
    // m = 0, v = 1 after 10,000 steps (bias corrections ≈ 1): the step is lr · 0.1 g / (1 + ε), g ≤ 1 (clipped).
    const carried = await oneStep((policy) => stateOf(policy, 1, 10_000));
    expect(carried).toBeGreaterThan(0);
    expect(carried).toBeLessThan(1e-3);
  });

  it("refuses a state that does not match the policy's parameters, naming the parameter", async () => {
    const run = oneStep((policy) => {
      const state = stateOf(policy, 1, 10);
      const [first] = state.moments.keys();
      state.moments.delete(first as string);
      return state;
    });
    // The trainer reports it as the training phase's failure, caused by the optimiser's CheckpointError.
    const error = await run.then(
      () => undefined,
      (thrown: unknown) => thrown as Error,
    );
    expect(error?.cause).toBeInstanceOf(CheckpointError);
    expect(String(error?.cause)).toMatch(/missing moments of/);
    await expect(
      oneStep((policy) => {
        const state = stateOf(policy, 1, 10);
        state.moments.set("not-a-parameter", {
          m: { shape: [1], data: new Float32Array(1) },
          v: { shape: [1], data: new Float32Array(1) },
        });
        return state;
      }),
    ).rejects.toSatisfy((thrown: unknown) =>
      /unexpected "not-a-parameter"/.test(String((thrown as Error).cause)),
    );
  });
});
