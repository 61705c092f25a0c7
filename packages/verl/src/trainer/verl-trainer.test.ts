import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InvalidArgumentError, PhaseError, RewardError, Sample, ValidationFailedError } from "@orbiter/types";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../backend/init-backend.js";
import { VeRLAlgorithm } from "../config/verl-algorithm.js";
import { VeRLConfig } from "../config/verl-config.js";
import { countA } from "../internal/testing/count-a-reward.js";
import type { LogProbsInput, LogProbsOutput, Policy } from "../model/policy.js";
import { TransformerPolicy } from "../model/transformer-policy.js";
import { CharTokenizer } from "../tokenizer/char-tokenizer.js";
import { isCorrect } from "./evaluate-policy.js";
import { buildRolloutBatch } from "./rollout-batch.js";
import { VeRLTrainer } from "./verl-trainer.js";

const tiny = { dModel: 16, nHeads: 2, nLayers: 1, dMlp: 32, contextLength: 24 };
const prompts = ["ab", "ba", "aab", "bba"];

let dir: string;
beforeAll(async () => {
  await initBackend();
  dir = await mkdtemp(join(tmpdir(), "verl-trainer-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function weightsOf(policy: Policy): Float32Array[] {
  return [...policy.getWeights().values()].map((tensor) => tensor.data);
}

describe("VeRLTrainer", () => {
  it("trains the guide's PPO snippet end to end with a default policy and reports verl metrics", async () => {
    const steps: number[] = [];
    const trainer = new VeRLTrainer({
      config: {
        algorithm: VeRLAlgorithm.PPO,
        epochs: 2,
        batchSize: 2,
        learningRate: 1e-3,
        klCoef: 0.1,
        clipRange: 0.2,
        maxNewTokens: 4,
        model: tiny,
      },
      rewards: [countA],
      onStep: (event) => {
        steps.push(event.step);
        expect(event.backend).toBe(trainer.backend);
      },
      metricsLogPath: join(dir, "ppo-metrics.jsonl"),
    });
    const metrics = await trainer.train(prompts);
    expect(trainer.state).toBe("trained");
    expect(steps).toEqual([1, 2, 3, 4]);
    expect(Number.isFinite(metrics.loss)).toBe(true);
    expect(metrics.reward).toBeGreaterThanOrEqual(0);
    expect(trainer.backend).toMatch(/^(tensorflow|wasm|cpu)$/);
    expect(metrics.extra[`backend/${trainer.backend}`]).toBe(1);
    for (const name of [
      "actor/pg_loss",
      "actor/pg_clipfrac",
      "actor/ppo_kl",
      "actor/entropy",
      "actor/kl_loss",
      "actor/grad_norm",
      "critic/vf_loss",
      "critic/vf_explained_var",
      "reward/mean",
      "reward/std",
      "rewards/count-a/mean",
      "frac_reward_zero_std",
      "response_length/mean",
      "timing/rollout_ms",
      "timing/update_ms",
    ]) {
      expect(metrics.extra[name], name).toBeTypeOf("number");
      expect(Number.isFinite(metrics.extra[name]), name).toBe(true);
    }
    // The phases partition the step: rollout, reward scoring, then the update (no phase counted twice).
    const timing = (phase: string) => metrics.extra[`timing/${phase}_ms`] as number;
    expect(timing("rollout") + timing("reward") + timing("update")).toBeCloseTo(timing("step"), 6);
    const log = (await readFile(join(dir, "ppo-metrics.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(log.filter((record) => record.kind === "step")).toHaveLength(4);
    // Training again continues for `epochs` more passes.
    await trainer.train(prompts);
    expect(steps).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const evaluation = await trainer.evaluate();
    expect(evaluation.extra["eval/samples"]).toBe(4);
    trainer.dispose();
  });

  it("run() validates, trains and evaluates the constructor's dataset, with progress lines", async () => {
    const lines: string[] = [];
    const trainer = new VeRLTrainer({
      dataset: prompts,
      config: { algorithm: "grpo", batchSize: 2, groupSize: 2, maxNewTokens: 3, epochs: 1, model: tiny },
      rewards: [countA],
      progress: { stream: { write: (chunk: string) => lines.push(chunk) }, tty: false, plainPercentStep: 50 },
    });
    const { train, evaluation } = await trainer.run();
    expect(trainer.state).toBe("complete");
    expect(train.steps).toBe(2);
    expect(evaluation.extra["eval/samples"]).toBe(prompts.length);
    expect(evaluation.accuracy).toBeGreaterThanOrEqual(0);
    expect(evaluation.loss).toBeCloseTo(-(evaluation.reward as number), 12);
    expect(lines.join("")).toMatch(/verl/);
    trainer.dispose();
  });

  it("accepts samples, prompt strings and toSamples() sources, and runs every advantage estimator", async () => {
    const samples = prompts.map((input) => Sample.parse({ input, output: "" }));
    const source = { toSamples: () => samples };
    const cases = [
      { advantageEstimator: "grpo" as const, data: samples },
      { advantageEstimator: "rloo" as const, data: prompts },
      { advantageEstimator: "reinforce++" as const, data: source },
      { advantageEstimator: "reinforce++-baseline" as const, data: samples, klPlacement: "reward" as const },
      {
        advantageEstimator: "grpo" as const,
        data: samples,
        normalizeAdvantageStd: false,
        lossAggregation: "seq-mean-token-mean" as const,
      },
    ];
    for (const { data, ...overrides } of cases) {
      const trainer = new VeRLTrainer({
        config: {
          algorithm: "grpo",
          batchSize: 2,
          groupSize: 3,
          maxNewTokens: 3,
          maxSteps: 1,
          model: tiny,
          ...overrides,
        },
        rewards: [countA],
      });
      const metrics = await trainer.train(data);
      expect(Number.isFinite(metrics.loss), JSON.stringify(overrides)).toBe(true);
      expect(trainer.progress.step).toBe(1);
      trainer.dispose();
    }
  });

  it("reports per-reward means that add up to the weighted total, and normalize-then-sum trains", async () => {
    const length = { name: "length", weight: 0.5, fn: (output: string) => output.length };
    const hasB = { name: "has-b", weight: -2, fn: async (output: string) => (output.includes("b") ? 1 : 0) };
    for (const rewardCombination of ["weighted-sum", "normalize-then-sum"] as const) {
      const trainer = new VeRLTrainer({
        config: {
          algorithm: "grpo",
          batchSize: 2,
          groupSize: 4,
          maxNewTokens: 4,
          maxSteps: 2,
          model: tiny,
          rewardCombination,
        },
        rewards: [countA, length, hasB],
      });
      const { extra } = await trainer.train(prompts);
      const weighted =
        (extra["rewards/count-a/mean"] as number) * 1 +
        (extra["rewards/length/mean"] as number) * 0.5 +
        (extra["rewards/has-b/mean"] as number) * -2;
      expect(weighted).toBeCloseTo(extra["reward/mean"] as number, 10);
      trainer.dispose();
    }
  });

  it("stops on a failing reward by default with a RewardError naming it and the sample", async () => {
    const trainer = new VeRLTrainer({
      config: { algorithm: "grpo", batchSize: 2, groupSize: 4, maxNewTokens: 3, maxSteps: 1, model: tiny },
      rewards: [countA, { name: "broken", fn: () => Number.NaN }],
    });
    const error = await trainer.train(prompts).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(PhaseError.isInstance(error)).toBe(true);
    const cause = (error as PhaseError).cause;
    expect(RewardError.isInstance(cause) && cause.reward).toBe("broken");
    expect(prompts).toContain(((cause as RewardError).sample as Sample).input);
    expect((cause as RewardError).message).toMatch(
      /Reward "broken" returned NaN, not a finite number on response 0/,
    );
    expect(trainer.state).toBe("error");
    trainer.dispose();
  });

  it('counts a failing reward and scores it 0 with onRewardError: "zero"', async () => {
    const flaky = { name: "flaky", weight: 5, fn: (output: string) => (output.length >= 0 ? Number.NaN : 1) };
    const trainer = new VeRLTrainer({
      config: {
        algorithm: "grpo",
        batchSize: 2,
        groupSize: 4,
        maxNewTokens: 3,
        maxSteps: 1,
        model: tiny,
        onRewardError: "zero",
      },
      rewards: [flaky, countA],
    });
    const metrics = await trainer.train(prompts);
    expect(Number.isFinite(metrics.loss)).toBe(true);
    expect(metrics.extra["rewards/flaky/errors"]).toBe(8);
    expect(metrics.extra["rewards/flaky/mean"]).toBe(0);
    expect(metrics.extra["reward/mean"]).toBeCloseTo(metrics.extra["rewards/count-a/mean"] as number, 12);
    trainer.dispose();
  });

  it('leaves the responses of a failing reward out of the update with onRewardError: "skip"', async () => {
    const policy = new TransformerPolicy({
      tokenizer: CharTokenizer.fromCorpus(prompts),
      config: tiny,
      seed: 5,
    });
    const before = weightsOf(policy);
    const trainer = new VeRLTrainer({
      config: {
        algorithm: "grpo",
        batchSize: 2,
        groupSize: 4,
        maxNewTokens: 3,
        maxSteps: 1,
        model: tiny,
        onRewardError: "skip",
      },
      policy,
      rewards: [countA, { name: "broken", fn: () => Promise.reject(new Error("service down")) }],
    });
    const metrics = await trainer.train(prompts);
    expect(trainer.state).toBe("trained");
    expect(metrics.extra["rewards/broken/errors"]).toBe(8);
    expect(metrics.extra["rewards/broken/abstained"]).toBe(0);
    // Every response was left out: nothing was learned, the weights are exactly as they were.
    expect(Number.isNaN(metrics.loss)).toBe(true);
    expect(weightsOf(policy)).toEqual(before);
    trainer.dispose();
    policy.dispose();
  });

  it("skips an update whose loss is not finite and never writes NaN into the weights", async () => {
    const tokenizer = CharTokenizer.fromCorpus(prompts);
    const inner = new TransformerPolicy({ tokenizer, config: tiny, seed: 3 });
    let poison = false;
    const policy: Policy = Object.assign(Object.create(inner) as Policy, {
      logProbs(input: LogProbsInput): LogProbsOutput {
        const out = inner.logProbs(input);
        return poison ? { ...out, logProbs: tf.mul(out.logProbs, Number.NaN) as tf.Tensor2D } : out;
      },
    });
    const trainer = new VeRLTrainer({
      policy,
      config: { algorithm: "grpo", batchSize: 2, groupSize: 4, maxNewTokens: 3, maxSteps: 3, model: tiny },
      rewards: [countA],
      onStep: (event) => {
        poison = event.step === 1; // the update of step 2 sees NaN log-probabilities
      },
    });
    const before = weightsOf(inner);
    poison = false;
    await trainer.train(prompts);
    expect(trainer.skippedUpdateCount).toBe(1);
    const after = weightsOf(inner);
    expect(after.every((data) => data.every(Number.isFinite))).toBe(true);
    expect(after.some((data, i) => data.some((x, j) => x !== before[i]?.[j]))).toBe(true);
    trainer.dispose();
    inner.dispose();
  });

  it("leaves out responses on which every reward abstained, and skips a rollout where all did", async () => {
    const tokenizer = CharTokenizer.fromCorpus(prompts);
    const policy = new TransformerPolicy({ tokenizer, config: tiny, seed: 5 });
    const before = weightsOf(policy);
    const silent = new VeRLTrainer({
      policy,
      config: { algorithm: "grpo", batchSize: 2, groupSize: 4, maxNewTokens: 3, maxSteps: 2, model: tiny },
      rewards: [{ name: "silent", fn: () => null }],
    });
    const quiet = await silent.train(prompts);
    expect(Number.isNaN(quiet.loss)).toBe(true);
    expect(quiet.extra["rewards/silent/abstained"]).toBe(1);
    expect(weightsOf(policy)).toEqual(before);
    silent.dispose();
    const generation = await policy.generate(["ab"], { n: 4, maxNewTokens: 3, stopAtEos: false, seed: 1 });
    const { batch } = buildRolloutBatch({
      config: VeRLConfig.parse({ algorithm: "grpo", groupSize: 4, batchSize: 1, klCoef: 0 }),
      policy,
      reference: null,
      generation,
      scores: [1, null, 0, 0.5],
      scoresAreAdvantages: false,
      klCoef: 0,
    });
    expect(batch.responseMask.arraySync()).toEqual([
      [1, 1, 1],
      [0, 0, 0],
      [1, 1, 1],
      [1, 1, 1],
    ]);
    // group statistics over the three scored responses: mean 0.5, sample std 0.5
    const advantages = batch.advantages.arraySync();
    [
      [1, 1, 1],
      [0, 0, 0],
      [-1, -1, -1],
      [0, 0, 0],
    ].forEach((row, i) => {
      row.forEach((value, j) => {
        expect(advantages[i]?.[j]).toBeCloseTo(value, 4);
      });
    });
    batch.dispose();
    policy.dispose();
  });

  it("adds the soft overlong penalty to the scores and can mask truncated responses", async () => {
    const trainer = new VeRLTrainer({
      config: {
        algorithm: "grpo",
        batchSize: 2,
        groupSize: 4,
        maxNewTokens: 3,
        maxSteps: 2,
        model: tiny,
        overlongPenalty: { bufferLength: 3 },
        maskTruncated: true,
      },
      rewards: [countA],
    });
    const { extra } = await trainer.train(prompts);
    // With the ramp over the whole length, a response of L ≤ 3 tokens is penalised by L/3.
    expect(extra["reward/overlong_penalty/mean"]).toBeCloseTo(
      -(extra["response_length/mean"] as number) / 3,
      10,
    );
    trainer.dispose();
    expect(
      () =>
        new VeRLTrainer({
          config: { maxNewTokens: 4, overlongPenalty: { bufferLength: 5 } },
          rewards: [countA],
        }),
    ).toThrow(/overlongPenalty\.bufferLength/);
  });

  it("filterZeroStdGroups leaves groups with equal rewards out of the update", async () => {
    const tokenizer = CharTokenizer.fromCorpus(prompts);
    const policy = new TransformerPolicy({ tokenizer, config: tiny, seed: 6 });
    const before = weightsOf(policy);
    const config = {
      algorithm: "grpo",
      batchSize: 2,
      groupSize: 4,
      maxNewTokens: 3,
      maxSteps: 2,
      model: tiny,
      filterZeroStdGroups: true,
    } as const;
    const constant = new VeRLTrainer({
      policy,
      config,
      rewards: [{ name: "constant", fn: () => 1 }],
    });
    const metrics = await constant.train(prompts);
    expect(metrics.extra.frac_reward_zero_std).toBe(1);
    expect(weightsOf(policy)).toEqual(before);
    constant.dispose();
    const varied = new VeRLTrainer({
      policy,
      config,
      rewards: [countA],
    });
    await varied.train(prompts);
    expect(weightsOf(policy)).not.toEqual(before);
    varied.dispose();
    policy.dispose();
  });

  it("adapts the KL coefficient step by step with the controller's rule when adaptiveKl is set", async () => {
    const seen: Array<{ beta: number; kl: number }> = [];
    const trainer = new VeRLTrainer({
      config: {
        algorithm: "grpo",
        batchSize: 2,
        groupSize: 4,
        maxNewTokens: 4,
        maxSteps: 4,
        learningRate: 1e-2,
        model: tiny,
        klCoef: 0.1,
        adaptiveKl: { target: 1e-4, horizon: 16 },
      },
      rewards: [countA],
      onStep: ({ metrics }) => {
        seen.push({
          beta: metrics.extra?.["actor/kl_coef"] as number,
          kl: metrics.extra?.["actor/reference_kl"] as number,
        });
      },
    });
    await trainer.train(prompts);
    expect(seen[0]).toEqual({ beta: 0.1, kl: 0 });
    const expected = [...seen.map(({ beta }) => beta).slice(1), trainer.klCoef];
    seen.forEach(({ beta, kl }, i) => {
      const error = Math.min(0.2, Math.max(-0.2, kl / 1e-4 - 1));
      expect(expected[i]).toBeCloseTo(beta * (1 + (error * 8) / 16), 12);
    });
    expect(seen.some(({ kl }) => kl > 1e-4)).toBe(true);
    expect(trainer.klCoef).not.toBe(0.1);
    trainer.dispose();
  });

  it("evaluates the current policy before training without touching the lifecycle", async () => {
    const samples = prompts.map((input) => ({ input, output: "" }));
    const options = {
      config: {
        algorithm: VeRLAlgorithm.GRPO,
        epochs: 1,
        batchSize: 2,
        maxNewTokens: 4,
        model: tiny,
        seed: 3,
      },
      rewards: [countA],
    } as const;
    // Without data or a tokenizer there is nothing to build the default policy from.
    await expect(new VeRLTrainer(options).evaluateCurrentPolicy(samples)).rejects.toThrow(
      InvalidArgumentError,
    );
    const trainer = new VeRLTrainer({ ...options, dataset: samples });
    const before = await trainer.evaluateCurrentPolicy(samples, { greedy: true });
    expect(trainer.state).toBe("created");
    expect(before.outputs).toHaveLength(samples.length);
    expect(Number.isFinite(before.reward)).toBe(true);
    // A chunk of 0 prompts (or 1.5, which re-evaluated samples) is rejected, naming the option.
    for (const batchSize of [0, 1.5]) {
      await expect(trainer.evaluateCurrentPolicy(samples, { batchSize })).rejects.toSatisfy(
        (error) => InvalidArgumentError.isInstance(error) && error.field === "options.batchSize",
      );
    }
    // With a sampling seed, chunks do not repeat each other's draws: the same prompt in three chunks of one.
    const same = Array.from({ length: 3 }, () => samples[0] as { input: string; output: string });
    const sampled = await trainer.evaluateCurrentPolicy(same, { greedy: false, batchSize: 1, seed: 5 });
    expect(new Set(sampled.outputs).size).toBeGreaterThan(1);
    // The lifecycle's evaluate() after training and this method agree on the same policy.
    await trainer.train();
    const afterLifecycle = await trainer.evaluate(samples, { greedy: true });
    const afterDirect = await trainer.evaluateCurrentPolicy(samples, { greedy: true });
    expect(afterDirect.reward).toBe(afterLifecycle.reward);
    expect(afterDirect.accuracy).toBe(afterLifecycle.accuracy);
    trainer.dispose();
  });

  it("rejects bad options with the field named", async () => {
    expect(() => new VeRLTrainer({ config: { epochs: -1 }, rewards: [countA] })).toThrow(
      InvalidArgumentError,
    );
    expect(() => new VeRLTrainer({ rewards: [] })).toThrow(/rewards/);
    expect(() => new VeRLTrainer({ rewards: [countA], datset: prompts } as never)).toThrow(
      expect.objectContaining({ name: "InvalidArgumentError", field: "datset" }),
    );
    const noCritic = new TransformerPolicy({ tokenizer: CharTokenizer.fromCorpus(prompts), config: tiny });
    const trainer = new VeRLTrainer({ policy: noCritic, config: { algorithm: "ppo" }, rewards: [countA] });
    await expect(trainer.train(prompts)).rejects.toSatisfy(
      (error) =>
        ValidationFailedError.isInstance(error) && /value head/.test(String((error as Error).message)),
    );
    noCritic.dispose();
  });

  it("defines accuracy by the reference output, else by the reward threshold", () => {
    const withReference = Sample.parse({ input: "2+2=", output: "4" });
    const open = Sample.parse({ input: "say a", output: "" });
    expect(isCorrect(" 4 ", withReference, 0, 1)).toBe(true);
    expect(isCorrect("5", withReference, 10, 1)).toBe(false);
    expect(isCorrect("a", open, 1, 1)).toBe(true);
    expect(isCorrect("a", open, 0.5, 1)).toBe(false);
    expect(isCorrect("a", open, null, 0)).toBe(false);
  });
});
