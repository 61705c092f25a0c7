import { mkdtemp, rm } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { InvalidArgumentError } from "@orbiter/types";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../backend/init-backend.js";
import { VeRLConfig, type VeRLConfigInput } from "../config/verl-config.js";
import { countA } from "../internal/testing/count-a-reward.js";
import { setWasmFma } from "../internal/wasm-fma.js";
import type { Policy } from "../model/policy.js";
import { TransformerPolicy } from "../model/transformer-policy.js";
import { CharTokenizer } from "../tokenizer/char-tokenizer.js";
import { VeRLTrainer } from "../trainer/verl-trainer.js";
import { MIN_PARALLEL_WORK, resolveWorkerCount } from "./trainer-workers.js";

const tiny = { dModel: 16, nHeads: 2, nLayers: 1, dMlp: 32, contextLength: 16 };
const prompts = ["ab", "ba", "aab", "bba", "abab", "b"];
let dir: string;

beforeAll(async () => {
  await initBackend();
  dir = await mkdtemp(join(tmpdir(), "orbiter-verl-workers-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Trains `steps` steps with `workers` and returns the per-step metrics and the final weights. */
async function train(config: VeRLConfigInput, workers: number) {
  const steps: Array<Record<string, number>> = [];
  const counts: number[][] = [];
  const trainer = new VeRLTrainer({
    config: { ...config, workers },
    rewards: [countA],
    onStep: async ({ metrics }) => {
      steps.push({ loss: metrics.loss as number, ...(metrics.extra ?? {}) });
      counts.push([tf.memory().numTensors, ...(await trainer.workerTensorCounts())]);
    },
  });
  await trainer.train(prompts);
  const weights = trainer.policy?.getWeights() as Map<string, { data: Float32Array }>;
  const participants = trainer.workerCount;
  await trainer.dispose();
  expect(trainer.workerCount).toBe(1);
  return { steps, counts, weights, participants };
}

function expectClose(a: number, b: number, what: string): void {
  expect(Math.abs(a - b), what).toBeLessThan(1e-4 + 1e-3 * Math.abs(a));
}

describe("config.workers", () => {
  it('resolves "auto" to the cores capped by the responses, 1 for small steps or other policies', () => {
    const tokenizer = CharTokenizer.fromCorpus(prompts);
    const big = new TransformerPolicy({ tokenizer, config: { dModel: 128 } });
    const small = new TransformerPolicy({ tokenizer, config: tiny });
    const grpo = VeRLConfig.parse({ algorithm: "grpo", batchSize: 8, groupSize: 8 });
    expect(resolveWorkerCount(grpo, big, null)).toBe(Math.min(availableParallelism(), 64));
    expect(
      resolveWorkerCount(VeRLConfig.parse({ algorithm: "grpo", batchSize: 1, groupSize: 1 }), big, null),
    ).toBe(1);
    expect(resolveWorkerCount(grpo, small, null)).toBe(1);
    // Agent episodes weigh as several answers each: enough of them make the same small step worth splitting.
    const answers = Math.ceil(MIN_PARALLEL_WORK / (small.parameterCount * 64));
    expect(resolveWorkerCount(grpo, small, null, "wasm", answers - 1)).toBe(1);
    expect(resolveWorkerCount(grpo, small, null, "wasm", answers)).toBe(Math.min(availableParallelism(), 64));
    expect(resolveWorkerCount(grpo, big, null, "tensorflow")).toBe(1);
    expect(resolveWorkerCount({ ...grpo, workers: 3 }, small, null)).toBe(3);
    const other = { ...big } as unknown as Policy;
    expect(resolveWorkerCount(grpo, other, null)).toBe(1);
    expect(() => resolveWorkerCount({ ...grpo, workers: 2 }, other, null)).toThrow(InvalidArgumentError);
    expect(() => new VeRLTrainer({ config: { workers: 0 }, rewards: [countA] })).toThrow(/workers/);
    big.dispose();
    small.dispose();
  });
});

describe("VeRLTrainer with 2 workers", () => {
  it.each([
    ["grpo", { algorithm: "grpo", batchSize: 3, groupSize: 4, klCoef: 0.1 }],
    ["ppo", { algorithm: "ppo", batchSize: 6, miniBatchSize: 3, ppoEpochs: 2, klCoef: 0.05 }],
  ] as const)(
    "%s trains as one thread does: loss, gradient norm and weights after 3 steps",
    async (_, algorithm) => {
      const config: VeRLConfigInput = {
        ...algorithm,
        maxNewTokens: 4,
        learningRate: 3e-3,
        epochs: 3,
        maxSteps: 3,
        model: tiny,
        seed: 5,
      };
      const one = await train(config, 1);
      const two = await train(config, 2);
      expect([one.participants, two.participants]).toEqual([1, 2]);
      expect(two.steps).toHaveLength(3);
      two.steps.forEach((step, i) => {
        const reference = one.steps[i] as Record<string, number>;
        expect(step["perf/workers"]).toBe(2);
        expect(step["timing/worker_startup_ms"]).toBeGreaterThan(0);
        expect(step["reward/mean"]).toBe(reference["reward/mean"]);
        for (const name of ["loss", "actor/grad_norm", "actor/pg_loss", "actor/entropy"]) {
          expectClose(step[name] as number, reference[name] as number, `step ${i} ${name}`);
        }
      });
      for (const [name, tensor] of one.weights) {
        const other = two.weights.get(name)?.data as Float32Array;
        tensor.data.forEach((x, i) => {
          expectClose(other[i] as number, x, name);
        });
      }
      // Zero tensors leaked per step, on this thread and on the worker.
      expect(two.counts.at(-1)).toEqual(two.counts[0]);
    },
  );

  it("resumes bit-identically with fused multiply-adds: 4 steps straight and 2 + resume + 2 give the same weights and rates", async () => {
    // Fused where relaxed SIMD can be had (the workers take the setting): determinism holds for either setting.
    setWasmFma("on");
    const config = (checkpointDir: string): VeRLConfigInput => ({
      algorithm: "ppo",
      batchSize: 4,
      miniBatchSize: 2,
      maxNewTokens: 4,
      learningRate: 3e-3,
      epochs: 4,
      maxSteps: 4,
      saveEvery: 2,
      checkpointDir,
      model: tiny,
      seed: 7,
      workers: 2,
      // The policy-space trust region: its KL is measured and its scale kept across the resume.
      desiredKl: 1e-4,
    });
    const rates: number[] = [];
    const onStep = ({ metrics }: { metrics: { extra?: Readonly<Record<string, number>> | undefined } }) => {
      rates.push(metrics.extra?.["actor/lr"] as number);
    };
    const straight = new VeRLTrainer({ config: config(join(dir, "straight")), rewards: [countA], onStep });
    await straight.train(prompts);
    const expected = straight.policy?.getWeights() as Map<string, { data: Float32Array }>;
    await straight.dispose();
    // The trust region lowered the rate by 1.5 after step 2 (warm-up: 3e-4, 6e-4, 9e-4, 1.2e-3), whose KL passed
    // 2 × the target, and kept it after step 3, whose updates the target_kl stop held within the region: a resume
    // that lost the scale would train its two steps at other rates.
    expect(rates.slice(0, 4).map((rate) => rate.toPrecision(6))).toEqual(
      [3e-4, 6e-4, 9e-4 / 1.5, 1.2e-3 / 1.5].map((rate) => rate.toPrecision(6)),
    );
    const resumed = new VeRLTrainer({ config: config(join(dir, "resumed")), rewards: [countA], onStep });
    await resumed.resume(join(dir, "straight", "step-2"));
    await resumed.train(prompts);
    expect(resumed.workerCount).toBe(2);
    expect(rates.slice(4)).toEqual(rates.slice(2, 4));
    const actual = resumed.policy?.getWeights() as Map<string, { data: Float32Array }>;
    for (const [name, tensor] of expected) {
      expect(Array.from(actual.get(name)?.data ?? []), name).toEqual(Array.from(tensor.data));
    }
    await resumed.dispose();
    setWasmFma("off");
  });
});
