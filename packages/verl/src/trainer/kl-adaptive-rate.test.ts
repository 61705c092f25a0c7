import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../backend/init-backend.js";
import { VeRLConfig, type VeRLConfigInput } from "../config/verl-config.js";
import { countA } from "../internal/testing/count-a-reward.js";
import { TransformerPolicy } from "../model/transformer-policy.js";
import { AdamOptimizer } from "../optim/adam-optimizer.js";
import { KL_ADAPTIVE_FACTOR } from "../optim/kl-adaptive-learning-rate.js";
import { CharTokenizer } from "../tokenizer/char-tokenizer.js";
import { type GradientApplier, runPolicyUpdate } from "./policy-update.js";
import { buildRolloutBatch, type RolloutBatch } from "./rollout-batch.js";
import { measureStepKl } from "./step-kl.js";
import { VeRLTrainer } from "./verl-trainer.js";

const prompts = ["ab", "ba", "aab", "bba"];
const tiny = { dModel: 16, nHeads: 2, nLayers: 1, dMlp: 32, contextLength: 16 };
let dir: string;

beforeAll(async () => {
  await initBackend();
  dir = await mkdtemp(join(tmpdir(), "verl-kl-rate-"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function tinyPolicy(valueHead = false): TransformerPolicy {
  const config = { ...tiny, valueHead };
  return new TransformerPolicy({ tokenizer: CharTokenizer.fromCorpus(prompts), config, seed: 3 });
}

describe("measureStepKl", () => {
  it("is 0 for an unchanged policy and e^{−c} − 1 + c when π_old was c nats above π_new on every loss token", () => {
    const policy = tinyPolicy();
    const tokens = tf.tensor2d(
      [
        [1, 2, 3, 2, 1, 2],
        [2, 1, 1, 3, 3, 0],
        [3, 3, 2, 1, 2, 2],
      ],
      undefined,
      "int32",
    );
    const attentionMask = tf.tensor2d([
      [1, 1, 1, 1, 1, 1],
      [1, 1, 1, 1, 1, 0],
      [1, 1, 1, 1, 1, 1],
    ]);
    const responseStart = 2;
    // The last row's responses are out of the loss, and its old log-probs are garbage: they must not count.
    const responseMask = tf.tensor2d([
      [1, 1, 1, 1],
      [1, 1, 1, 0],
      [0, 0, 0, 0],
    ]);
    const current = policy.logProbs({ tokens, attentionMask, responseStart, temperature: 0.7 }).logProbs;
    const garbage = tf.tensor2d([[0], [0], [-50]]);
    const batchWith = (oldLogProbs: tf.Tensor2D) =>
      ({
        size: 3,
        tokens,
        attentionMask,
        responseStart,
        responseMask,
        oldLogProbs: tf.add(oldLogProbs, garbage) as tf.Tensor2D,
      }) as unknown as RolloutBatch;
    const same = batchWith(current);
    expect(measureStepKl(policy, same, 0.7, 3)).toBeLessThan(1e-7);
    const shifted = batchWith(tf.add(current, 0.1) as tf.Tensor2D);
    const expected = Math.exp(-0.1) - 1 + 0.1; // 0.0048374
    expect(measureStepKl(policy, shifted, 0.7, 3)).toBeCloseTo(expected, 6);
    // Chunked forward passes give the same figure.
    expect(measureStepKl(policy, shifted, 0.7, 1)).toBeCloseTo(expected, 6);
    expect(measureStepKl(policy, shifted, 0.7, 2)).toBeCloseTo(expected, 6);
    const before = tf.memory().numTensors;
    measureStepKl(policy, shifted, 0.7, 2);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([
      tokens,
      attentionMask,
      responseMask,
      current,
      garbage,
      same.oldLogProbs,
      shifted.oldLogProbs,
    ]);
    policy.dispose();
  });
});

interface RateRun {
  rates: number[];
  scales: number[];
  stepKls: number[];
  weights: Map<string, { data: Float32Array }>;
}

async function train(config: VeRLConfigInput, resumeFrom?: string): Promise<RateRun> {
  const policy = tinyPolicy();
  const run: RateRun = { rates: [], scales: [], stepKls: [], weights: new Map() };
  const trainer = new VeRLTrainer({
    policy,
    config: {
      algorithm: "grpo",
      batchSize: 4,
      groupSize: 4,
      maxNewTokens: 4,
      learningRate: 3e-2,
      warmupSteps: 2,
      epochs: 20,
      maxSteps: 8,
      seed: 5,
      ...config,
    },
    rewards: [countA],
    onStep: ({ metrics }) => {
      run.rates.push(metrics.extra?.["actor/lr"] as number);
      run.scales.push(metrics.extra?.["actor/lr_scale"] as number);
      run.stepKls.push(metrics.extra?.["actor/step_kl"] as number);
    },
  });
  try {
    if (resumeFrom !== undefined) await trainer.resume(resumeFrom);
    await trainer.train(prompts);
    run.weights = trainer.policy?.getWeights() as Map<string, { data: Float32Array }>;
    return run;
  } finally {
    await trainer.dispose();
    policy.dispose();
  }
}

/** The schedule of `train`'s runs: warm-up over 2 steps to 3e-2, cosine to 0 at step 7. */
function scheduled(step: number): number {
  if (step < 2) return (3e-2 * (step + 1)) / 2;
  return (3e-2 / 2) * (1 + Math.cos((Math.PI * (step - 2)) / 5));
}

describe("desiredKl: the KL-adaptive learning rate in the trainer", () => {
  it("scales the schedule by the rule, step after step, from the measured per-step KL", async () => {
    const desiredKl = 2e-3;
    const { rates, scales, stepKls } = await train({ desiredKl });
    expect(rates).toHaveLength(8);
    let scale = 1;
    stepKls.forEach((stepKl, step) => {
      expect(Number.isFinite(stepKl) && stepKl >= 0).toBe(true);
      expect(scales[step]).toBeCloseTo(scale, 12);
      expect(rates[step]).toBeCloseTo(scheduled(step) * scale, 12);
      if (stepKl > 2 * desiredKl) scale /= KL_ADAPTIVE_FACTOR;
      else if (stepKl < desiredKl / 2) scale = Math.min(scale * KL_ADAPTIVE_FACTOR, 1);
    });
    // At 3e-2 the tiny policy's steps overshoot the target: the controller did lower the rate.
    expect(Math.min(...scales)).toBeLessThan(1);
    expect(Math.max(...stepKls)).toBeGreaterThan(2 * desiredKl);
  });

  it("trains at the schedule without it (no measurement, no scale)", async () => {
    const { rates, scales, stepKls } = await train({});
    rates.forEach((rate, step) => {
      expect(rate).toBeCloseTo(scheduled(step), 12);
    });
    expect(scales.every((scale) => scale === undefined)).toBe(true);
    expect(stepKls.every((kl) => kl === undefined)).toBe(true);
  });

  it("keeps its scale in the checkpoint: 8 steps straight and 4 + resume + 4 give the same rates and weights", async () => {
    const config = (checkpointDir: string): VeRLConfigInput => ({
      desiredKl: 2e-3,
      saveEvery: 4,
      checkpointDir,
    });
    const straight = await train(config(join(dir, "straight")));
    // The scale at the checkpoint is below 1, so a resume that lost it would train at other rates.
    expect(straight.scales[4]).toBeLessThan(1);
    const resumed = await train(config(join(dir, "resumed")), join(dir, "straight", "step-4"));
    expect(resumed.rates).toEqual(straight.rates.slice(4));
    expect(resumed.scales).toEqual(straight.scales.slice(4));
    for (const [name, tensor] of straight.weights) {
      expect(Array.from(resumed.weights.get(name)?.data ?? []), name).toEqual(Array.from(tensor.data));
    }
  });
});

describe("desiredKl: SB3's target_kl stop inside a step", () => {
  interface Updated {
    applied: number;
    metrics: Record<string, number>;
    before: Map<string, { data: Float32Array }>;
    after: Map<string, { data: Float32Array }>;
    /** KL(π_old ‖ π) of the final weights on the step's rollout, measured again. */
    finalKl: number;
  }

  async function update(config: VeRLConfigInput, learningRate = 3e-2): Promise<Updated> {
    const policy = tinyPolicy(true);
    const parsed = VeRLConfig.parse({
      algorithm: "ppo",
      batchSize: 4,
      maxNewTokens: 4,
      miniBatchSize: 2,
      klCoef: 0,
      ...config,
    });
    const generation = await policy.generate(prompts, { n: 1, maxNewTokens: 4, seed: 3, temperature: 1.5 });
    const { batch } = buildRolloutBatch({
      config: parsed,
      policy,
      reference: null,
      generation,
      scores: generation.texts.map((text) => text.length % 3),
      scoresAreAdvantages: false,
      klCoef: 0,
    });
    const adam = new AdamOptimizer(policy.parameters(), { learningRate });
    let applied = 0;
    const optimizer: GradientApplier = {
      get learningRate() {
        return adam.learningRate;
      },
      set learningRate(rate: number) {
        adam.learningRate = rate;
      },
      applyGradients(gradients) {
        applied++;
        adam.applyGradients(gradients);
      },
    };
    const before = policy.getWeights() as Map<string, { data: Float32Array }>;
    try {
      const result = await runPolicyUpdate({
        config: parsed,
        policy,
        batch,
        klCoef: 0,
        learningRate,
        optimizer,
        seed: 1,
      });
      const after = policy.getWeights() as Map<string, { data: Float32Array }>;
      const finalKl = measureStepKl(policy, batch, parsed.temperature, parsed.microBatchSize);
      return { applied, metrics: result.metrics, before, after, finalKl };
    } finally {
      batch.dispose();
      adam.dispose();
      policy.dispose();
    }
  }

  it("drops the step's remaining updates once a mini-batch finds the policy past 1.5 × the target", async () => {
    // Three epochs of two mini-batches: six updates. The first sees the rollout's own policy (KL 0) and is
    // applied; at 3e-2 the second already finds the tiny policy far past 1.5e-6, so the other five are dropped.
    const stopped = await update({ ppoEpochs: 3, desiredKl: 1e-6 });
    expect(stopped.applied).toBe(1);
    expect(stopped.metrics["actor/kl_stopped_updates"]).toBe(5);
    expect(stopped.metrics["actor/step_kl"]).toBeGreaterThan(1.5e-6);
    // A target the updates stay within lets all six through; without one, nothing is measured or stopped.
    const within = await update({ ppoEpochs: 3, desiredKl: 10 });
    expect(within.applied).toBe(6);
    expect(within.metrics["actor/kl_stopped_updates"]).toBe(0);
    const off = await update({ ppoEpochs: 3 });
    expect(off.applied).toBe(6);
    expect(off.metrics["actor/kl_stopped_updates"]).toBeUndefined();
    expect(off.metrics["actor/step_kl"]).toBeUndefined();
  });
  interface GrpoUpdate {
    /** `desiredKl`, `ppoEpochs`: the rest is two prompts, two responses each, of up to 4 tokens, and no KL loss. */
    config: VeRLConfigInput;
    scores: number[];
    scoresAreAdvantages: boolean;
    learningRate: number;
    /** Nats added to every sampled log-probability, so that π_old sits that far above the trainer's π. */
    oldLogProbShift?: number;
  }

  /** One GRPO step of the tiny policy over its 4 responses to "ab" and "ba": the updates applied and the metrics. */
  async function grpoUpdate(
    options: GrpoUpdate,
  ): Promise<{ applied: number; metrics: Record<string, number> }> {
    const { scores, scoresAreAdvantages, learningRate, oldLogProbShift } = options;
    const policy = tinyPolicy();
    const config = VeRLConfig.parse({
      algorithm: "grpo",
      batchSize: 2,
      groupSize: 2,
      maxNewTokens: 4,
      klCoef: 0,
      ...options.config,
    });
    const sampled = await policy.generate(["ab", "ba"], {
      n: 2,
      maxNewTokens: 4,
      seed: 3,
      temperature: config.temperature,
    });
    const generation =
      oldLogProbShift === undefined
        ? sampled
        : { ...sampled, logProbs: sampled.logProbs.map((row) => row.map((x) => x + oldLogProbShift)) };
    const { batch } = buildRolloutBatch({
      config,
      policy,
      reference: null,
      generation,
      scores,
      scoresAreAdvantages,
      klCoef: 0,
    });
    const adam = new AdamOptimizer(policy.parameters(), { learningRate });
    try {
      const input = { config, policy, batch, klCoef: 0, learningRate, optimizer: adam, seed: 1 };
      const { applied, metrics } = await runPolicyUpdate(input);
      return { applied, metrics };
    } finally {
      batch.dispose();
      adam.dispose();
      policy.dispose();
    }
  }

  /** Two GRPO epochs over 4 responses that all have advantage +1, at 3e-2: the metrics and updates applied. */
  function raiseEverySample(desiredKl: number): ReturnType<typeof grpoUpdate> {
    const config = { ppoEpochs: 2, desiredKl };
    return grpoUpdate({ config, scores: [1, 1, 1, 1], scoresAreAdvantages: true, learningRate: 3e-2 });
  }

  it("stops by the non-negative k3 (actor/approx_kl), also where the signed k1 of actor/ppo_kl is below 0", async () => {
    // The first update raises the log-probability of every sampled token, so the second finds k1, the mean of
    // log π_old − log π, below 0 although the policy moved: a stop by k1 would never fire. k3 sees the move.
    const free = await raiseEverySample(10);
    expect(free.applied).toBe(2);
    expect(free.metrics["actor/kl_stopped_updates"]).toBe(0);
    // The metrics average both updates; the first sees the rollout's own policy (KL ≈ 0, rounding), so twice the
    // mean is the second update's.
    const secondK1 = 2 * (free.metrics["actor/ppo_kl"] as number);
    const secondK3 = 2 * (free.metrics["actor/approx_kl"] as number);
    expect(secondK1).toBeLessThan(0);
    expect(secondK3).toBeGreaterThan(1e-3);
    // A target whose stop, 1.5 × secondK3 / 3, lies halfway to k3 (and far above k1): the second update is dropped.
    const held = await raiseEverySample(secondK3 / 3);
    expect(held.applied).toBe(1);
    expect(held.metrics["actor/kl_stopped_updates"]).toBe(1);
    expect(held.metrics["actor/approx_kl"]).toBeLessThan(1e-5);
  });

  it("never stops a step's first update, whose π_old is the sampler's and may differ from the trainer's", async () => {
    // GRPO keeps the sampler's log-probs as π_old; here they sit 0.05 nats above the trainer's on every token, so
    // the first (and only) update's approx_kl, which the stop reads, is e^−0.05 − 1 + 0.05 ≈ 1.2e-3, far past
    // 1.5 × 1e-4, although the policy has not moved.
    const result = await grpoUpdate({
      config: { desiredKl: 1e-4 },
      scores: [1, 0, 0, 1],
      scoresAreAdvantages: false,
      learningRate: 1e-3,
      oldLogProbShift: 0.05,
    });
    expect(result.metrics["actor/approx_kl"]).toBeGreaterThan(1.5e-4);
    expect(result.applied).toBe(1);
    expect(result.metrics["actor/kl_stopped_updates"]).toBe(0);
    // The step was measured, so the rate can adapt to it.
    expect(result.metrics["actor/step_kl"]).toBeGreaterThan(0);
  });

  it("takes back the part of a step whose KL overshoots 2 × the target, along the step's own direction", async () => {
    // One update (one epoch, one mini-batch): the step the target lets through whole ...
    // (At 1e-3, a small step: KL grows with its square there.)
    const free = await update({ ppoEpochs: 1, miniBatchSize: 4, desiredKl: 10 }, 1e-3);
    const stepKl = free.metrics["actor/step_kl"] as number;
    expect(free.metrics["actor/step_kept"]).toBe(1);
    expect(stepKl).toBeGreaterThan(0);
    // ... and the same step with a target of stepKl / 8: a bound of stepKl / 4 keeps √(1/4) of it.
    const held = await update({ ppoEpochs: 1, miniBatchSize: 4, desiredKl: stepKl / 8 }, 1e-3);
    expect(held.metrics["actor/step_kl"]).toBeCloseTo(stepKl, 9);
    expect(held.metrics["actor/step_kept"]).toBeCloseTo(0.5, 9);
    let moved = 0;
    for (const [name, start] of held.before) {
      const full = (free.after.get(name) as { data: Float32Array }).data;
      const kept = (held.after.get(name) as { data: Float32Array }).data;
      start.data.forEach((x0, i) => {
        // The value head does not change the policy: its step is kept whole.
        const expected = name.startsWith("value_head.")
          ? (full[i] as number)
          : x0 + 0.5 * ((full[i] as number) - x0);
        expect(Math.abs((kept[i] as number) - expected), name).toBeLessThan(1e-6);
        if (full[i] !== x0) moved++;
      });
    }
    expect(moved).toBeGreaterThan(0);
    // KL grows with the square of a small step: half the step, about a quarter of the KL.
    expect(held.finalKl).toBeGreaterThan(stepKl / 8);
    expect(held.finalKl).toBeLessThan(stepKl / 2);
  });
});
