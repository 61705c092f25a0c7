import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../backend/init-backend.js";
import type { VeRLConfigInput } from "../config/verl-config.js";
import { countA } from "../internal/testing/count-a-reward.js";
import { tinyModel } from "../internal/testing/tiny-trainer-config.js";
import { TransformerPolicy } from "../model/transformer-policy.js";
import { VeRLTrainer } from "./verl-trainer.js";

const prompts = ["ab", "ba", "aab", "bba"];
let dir: string;

beforeAll(async () => {
  await initBackend();
  dir = await mkdtemp(join(tmpdir(), "resume-run-state-"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** One GRPO step per call on one thread, checkpointing after each step into `checkpointDir`. */
function config(checkpointDir: string, maxSteps: number): VeRLConfigInput {
  return {
    algorithm: "grpo",
    batchSize: 2,
    groupSize: 4,
    maxNewTokens: 3,
    learningRate: 1e-2,
    warmupSteps: 0,
    maxSteps,
    saveEvery: 1,
    checkpointDir,
    workers: 1,
    seed: 9,
    model: tinyModel,
  };
}

/** Trains up to step 2 after resuming each of `checkpoints` in turn; returns the weights and resolved settings. */
async function resumeAndStep(checkpoints: string[], name: string) {
  const trainer = new VeRLTrainer({
    config: config(join(dir, name), 2),
    rewards: [countA],
    dataset: prompts,
  });
  try {
    for (const checkpoint of checkpoints) await trainer.resume(checkpoint);
    await trainer.train();
    const { critic, normalizeAdvantageStd, whitenAdvantages } = trainer.config;
    return {
      step: trainer.progress.step,
      settings: { critic, normalizeAdvantageStd, whitenAdvantages },
      weights: trainer.policy?.getWeights() as Map<string, { data: Float32Array }>,
    };
  } finally {
    await trainer.dispose();
  }
}

describe("VeRLTrainer resume takes the run state from the checkpoint alone", () => {
  it("a trainer that resumed one checkpoint, then another, steps as a new trainer resuming the second", async () => {
    // Run "carried": a warm start from saved Adam moments, so "auto" resolves to raw advantages and its
    // checkpoint holds moments and step counts; its policy, once adopted by a resume, carries them too.
    const first = new VeRLTrainer({
      config: config(join(dir, "fresh"), 1),
      rewards: [countA],
      dataset: prompts,
    });
    await first.train();
    await first.dispose();
    const warm = await TransformerPolicy.load(join(dir, "fresh", "step-1", "policy"));
    expect(warm.optimizerState?.step).toBe(1);
    const carried = new VeRLTrainer({
      policy: warm,
      config: config(join(dir, "carried"), 1),
      rewards: [countA],
    });
    await carried.train(prompts);
    expect(carried.config.normalizeAdvantageStd).toBe(false);
    await carried.dispose();
    warm.dispose();
    // Checkpoint "start": a new trainer's, saved before any step, so without moments and with "auto" unresolved.
    const start = new VeRLTrainer({
      config: config(join(dir, "start"), 1),
      rewards: [countA],
      dataset: prompts,
    });
    await start.validate();
    await start.saveCheckpoint(join(dir, "start", "step-0"));
    await start.dispose();

    const expected = await resumeAndStep([join(dir, "start", "step-0")], "expected");
    const actual = await resumeAndStep(
      [join(dir, "carried", "step-1"), join(dir, "start", "step-0")],
      "actual",
    );
    // Fresh Adam and divided advantages, as "start" resolves them: not the moments or settings of "carried".
    expect(expected.settings).toEqual({
      critic: "detached",
      normalizeAdvantageStd: true,
      whitenAdvantages: true,
    });
    expect([expected.step, actual.step]).toEqual([2, 2]);
    expect(actual.settings).toEqual(expected.settings);
    expect([...actual.weights.keys()]).toEqual([...expected.weights.keys()]);
    for (const [name, tensor] of expected.weights) {
      expect(Array.from(actual.weights.get(name)?.data ?? []), name).toEqual(Array.from(tensor.data));
    }
  });
});
