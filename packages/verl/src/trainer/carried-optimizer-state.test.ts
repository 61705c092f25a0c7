import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CheckpointError } from "@orbiter/types";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../backend/init-backend.js";
import type { VeRLConfigInput } from "../config/verl-config.js";
import { countA } from "../internal/testing/count-a-reward.js";
import { tinyGrpoConfig } from "../internal/testing/tiny-trainer-config.js";
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

/** How {@link oneStep} sets up its run. */
interface StepSetup {
  /** Given as the trainer's `optimizerState` option. */
  option?: (policy: TransformerPolicy) => AdamState | undefined;
  /** Attached to the policy as the state saved with it. */
  saved?: (policy: TransformerPolicy) => AdamState;
  /** Config fields on top of the GRPO step. */
  config?: VeRLConfigInput;
  /** Sees the trainer after its step. */
  after?: (trainer: VeRLTrainer) => void;
}

/** One GRPO step at lr 1e-2 without warm-up; returns the largest single weight change. */
async function oneStep(
  setup: StepSetup | ((policy: TransformerPolicy) => AdamState | undefined),
): Promise<number> {
  const { option, saved, config, after } = typeof setup === "function" ? { option: setup } : setup;
  const policy = newPolicy();
  const before = policy.getWeights();
  const optimizerState = option?.(policy);
  if (saved) policy.optimizerState = saved(policy);
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
      ...config,
    },
    rewards: [countA],
    ...(optimizerState ? { optimizerState } : {}),
  });
  try {
    await trainer.train(prompts);
    after?.(trainer);
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

describe("VeRLTrainer carryOptimizerState (the moments saved with the policy)", () => {
  it("starts from the policy's saved moments by default, and from zeros when turned off", async () => {
    const saved = (policy: TransformerPolicy) => stateOf(policy, 1, 10_000);
    const carried = await oneStep({ saved });
    const fresh = await oneStep({ saved, config: { carryOptimizerState: false } });
    // The fresh Adam's first step moves some weight by the full rate; v = 1 divides the clipped gradient instead.
    expect(fresh).toBeGreaterThan(0.99e-2);
    expect(carried).toBeGreaterThan(0);
    expect(carried).toBeLessThan(1e-3);
  });

  it("prefers the trainer's optimizerState option to the saved moments", async () => {
    const change = await oneStep({
      saved: (policy) => stateOf(policy, 1, 10_000),
      option: (policy) => stateOf(policy, 1e-12, 10_000),
    });
    // v ≈ 0 from the option: the step is lr · g / (|g| + ε) as for a fresh Adam, not the small step of v = 1.
    expect(change).toBeGreaterThan(0.5e-2);
  });

  it('resolves "auto" advantage scaling: off with carried moments, on with a fresh Adam', async () => {
    const resolved: Array<[unknown, unknown]> = [];
    const record = (trainer: VeRLTrainer) => {
      resolved.push([trainer.config.normalizeAdvantageStd, trainer.config.whitenAdvantages]);
    };
    await oneStep({ saved: (policy) => stateOf(policy, 1, 10_000), after: record });
    await oneStep({ after: record });
    await oneStep({ option: (policy) => stateOf(policy, 1, 10_000), after: record });
    await oneStep({
      saved: (policy) => stateOf(policy, 1, 10_000),
      config: { normalizeAdvantageStd: true, whitenAdvantages: true },
      after: record,
    });
    expect(resolved).toEqual([
      [false, false],
      [true, true],
      [false, false],
      [true, true],
    ]);
  });

  it('a resumed "auto" keeps the scaling the run started with, although Adam then resumes from moments', async () => {
    const config = tinyGrpoConfig;
    const rewards = [countA];
    // A policy the trainer builds has no saved moments: "auto" divides and whitens.
    const first = new VeRLTrainer({ config, rewards, dataset: prompts });
    await first.train();
    expect([first.config.normalizeAdvantageStd, first.config.whitenAdvantages]).toEqual([true, true]);
    const dir = await mkdtemp(join(tmpdir(), "advantage-scale-resume-"));
    try {
      await first.saveCheckpoint(dir);
      await first.dispose();
      // The resumed Adam starts from the checkpoint's moments, which alone would resolve "auto" to false.
      const resumed = new VeRLTrainer({ config: { ...config, maxSteps: 2 }, rewards, dataset: prompts });
      await resumed.resume(dir);
      await resumed.train();
      expect(resumed.progress.step).toBe(2);
      expect([resumed.config.normalizeAdvantageStd, resumed.config.whitenAdvantages]).toEqual([true, true]);
      await resumed.dispose();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("names the way out when the saved moments do not fit the policy", async () => {
    const error = await oneStep({
      saved: (policy) => {
        const state = stateOf(policy, 1, 10);
        state.moments.delete([...state.moments.keys()][0] as string);
        return state;
      },
    }).then(
      () => undefined,
      (thrown: unknown) => thrown as Error,
    );
    expect(error?.cause).toBeInstanceOf(CheckpointError);
    expect(String(error?.cause)).toMatch(/carryOptimizerState/);
    expect(String(error?.cause)).toMatch(/missing moments of/);
  });
});

describe("VeRLTrainer adamEpsilon", () => {
  it("a large ε shrinks the first step of a fresh Adam below the learning rate", async () => {
    const standard = await oneStep({});
    // |g| ≤ 1 after clipping, so lr · g / (|g| + 1) ≤ lr / 2 on every weight.
    const large = await oneStep({ config: { adamEpsilon: 1 } });
    expect(standard).toBeGreaterThan(0.99e-2);
    expect(large).toBeGreaterThan(0);
    expect(large).toBeLessThanOrEqual(0.5e-2);
  });
});
