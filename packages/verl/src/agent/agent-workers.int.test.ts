import { BackendError, type ChatMessage, type ChatModel } from "@orbiter/types";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../backend/init-backend.js";
import { ChatPolicy } from "../chat/chat-policy.js";
import type { VeRLConfigInput } from "../config/verl-config.js";
import { SKY, SKY_TASKS, SKY_TOOLS, skyAgent, warmSkyPolicy } from "../internal/testing/sky-agent.js";
import { DataParallelGroup } from "../parallel/data-parallel-group.js";
import type { TrainerWorkers } from "../parallel/trainer-workers.js";
import { VeRLTrainer } from "../trainer/verl-trainer.js";
import { serveWithGateway } from "./serve-with-gateway.js";

/** What one model call sampled. */
interface Sampled {
  tokenIds: number[];
  tokenLogprobs: number[];
}

/** Trains the sky agent for the config's steps with `workers` threads; returns what was sampled and measured. */
async function train(config: VeRLConfigInput, workers: number) {
  const policy = await warmSkyPolicy(3);
  const sampled: Sampled[][] = [];
  const steps: Array<Record<string, number>> = [];
  const counts: number[][] = [];
  const trainer: VeRLTrainer = new VeRLTrainer({
    policy,
    config: { ...config, workers },
    rewards: [{ name: "exact", fn: (answer, task) => (answer === SKY[task.id] ? 1 : 0) }],
    agent: skyAgent,
    // One episode at a time: every model call is a batch of its own, so the calls, their seeds and the rows
    // they sample are the same whatever the thread count.
    agentOptions: { maxTurns: 3, concurrency: 1 },
    // The gateway as usual, recording what the policy sampled for each call of the step.
    serve: ({ model, apiKey }) => {
      const calls: Sampled[] = [];
      sampled.push(calls);
      const recording: ChatModel = {
        async complete(request, options) {
          const result = await model.complete(request, options);
          for (const choice of result.choices) {
            calls.push({ tokenIds: choice.tokenIds ?? [], tokenLogprobs: choice.tokenLogprobs ?? [] });
          }
          return result;
        },
      };
      return serveWithGateway({ model: recording, apiKey });
    },
    onStep: async ({ metrics }) => {
      steps.push({ loss: metrics.loss as number, ...(metrics.extra ?? {}) });
      counts.push([tf.memory().numTensors, ...(await trainer.workerTensorCounts())]);
    },
  });
  await trainer.train(SKY_TASKS);
  const evaluation = await trainer.evaluateCurrentPolicy(SKY_TASKS);
  const weights = policy.getWeights();
  const participants = trainer.workerCount;
  await trainer.dispose();
  const afterDispose = trainer.workerCount;
  policy.dispose();
  return { sampled, steps, counts, weights, participants, afterDispose, evaluation };
}

function expectClose(a: number, b: number, what: string): void {
  expect(Math.abs(a - b), what).toBeLessThan(1e-4 + 1e-3 * Math.abs(b));
}

describe("agent mode on 2 threads", () => {
  beforeAll(async () => {
    await initBackend({ backend: "wasm" });
  });

  it("trains as one thread does: the same sampled ids, losses, KL and weights within tolerance; no leaks; dispose ends the workers", async () => {
    const config: VeRLConfigInput = {
      algorithm: "grpo",
      batchSize: 2,
      groupSize: 2,
      microBatchSize: 1,
      epochs: 1,
      maxSteps: 2,
      maxNewTokens: 20,
      learningRate: 3e-3,
      klCoef: 0.05,
      temperature: 1,
      seed: 4,
    };
    const one = await train(config, 1);
    const two = await train(config, 2);
    expect([one.participants, two.participants, two.afterDispose]).toEqual([1, 2, 1]);
    // Two training steps and the evaluation each served the policy once.
    // Step 1 samples with identical weights; later rollouts with weights equal up to float rounding, which for
    // this seed never moves a draw across a token boundary (a flip would need a draw within ~1e-6 of one).
    expect(two.sampled).toHaveLength(3);
    two.sampled.forEach((calls, step) => {
      const expected = one.sampled[step] as Sampled[];
      expect(calls.length, `calls of rollout ${step}`).toBe(expected.length);
      expect(calls.length).toBeGreaterThanOrEqual(4);
      calls.forEach((call, i) => {
        expect(call.tokenIds, `rollout ${step} call ${i}`).toEqual(expected[i]?.tokenIds);
        call.tokenLogprobs.forEach((x, j) => {
          expectClose(x, expected[i]?.tokenLogprobs[j] as number, `rollout ${step} call ${i} token ${j}`);
        });
      });
    });
    expect(two.steps).toHaveLength(2);
    two.steps.forEach((step, i) => {
      const reference = one.steps[i] as Record<string, number>;
      expect(step["perf/workers"]).toBe(2);
      expect(step["timing/worker_startup_ms"]).toBeGreaterThan(0);
      expect(reference["perf/workers"]).toBe(1);
      expect(step["reward/mean"]).toBe(reference["reward/mean"]);
      expect(step["episode/rows"]).toBe(reference["episode/rows"]);
      for (const name of [
        "loss",
        "actor/pg_loss",
        "actor/grad_norm",
        "actor/entropy",
        "actor/reference_kl",
      ]) {
        expect(Number.isFinite(reference[name]), name).toBe(true);
        expectClose(step[name] as number, reference[name] as number, `step ${i} ${name}`);
      }
    });
    expect(two.evaluation.outputs).toEqual(one.evaluation.outputs);
    for (const [name, tensor] of one.weights) {
      const other = two.weights.get(name)?.data as Float32Array;
      tensor.data.forEach((x, i) => {
        expectClose(other[i] as number, x, name);
      });
    }
    // No tensor leaked from one step to the next, on this thread or on the worker.
    expect(two.counts[0]).toHaveLength(2);
    expect(two.counts.at(-1)).toEqual(two.counts[0]);
  }, 120_000);

  it("samples concurrent chat calls with their rows split across the threads: the answers of one thread", async () => {
    const policy = await warmSkyPolicy(5);
    const group = await DataParallelGroup.start({
      participants: 2,
      policy,
      reference: null,
      backend: "wasm",
    });
    try {
      const conversations: ChatMessage[][] = ["Oslo", "Rome", "Lima", "Nice", "Oslo"].map((city) => [
        { role: "user", content: `${city}?` },
      ]);
      // Calls made in the same tick are sampled as one batch (5 rows: 2 here, 3 on the worker).
      const ask = (chat: ChatPolicy) =>
        Promise.all(conversations.map((messages) => chat.chat(messages, { tools: SKY_TOOLS })));
      const single = new ChatPolicy(policy, { seed: 8, maxNewTokens: 24 });
      const split = new ChatPolicy(policy, { seed: 8, maxNewTokens: 24, generator: group });
      const one = await ask(single);
      const two = await ask(split);
      expect([single.counters.batches, split.counters.batches]).toEqual([1, 1]);
      expect(two.map((result) => result.choices[0]?.message)).toEqual(
        one.map((result) => result.choices[0]?.message),
      );
      two.forEach((result, i) => {
        const expected = one[i]?.choices[0];
        const turn = result.choices[0];
        expect(turn?.tokenIds.length).toBeGreaterThan(0);
        expect(turn?.tokenIds).toEqual(expected?.tokenIds);
        turn?.tokenLogprobs.forEach((x, j) => {
          expectClose(x, expected?.tokenLogprobs[j] as number, `call ${i} token ${j}`);
        });
      });
    } finally {
      await group.dispose();
      policy.dispose();
    }
  }, 60_000);

  it("fails the step with a BackendError when a worker dies, instead of counting every episode failed", async () => {
    const policy = await warmSkyPolicy(6);
    let episodes = 0;
    const trainer = new VeRLTrainer({
      policy,
      config: { algorithm: "grpo", batchSize: 2, groupSize: 2, maxNewTokens: 20, klCoef: 0, workers: 2 },
      rewards: [{ name: "exact", fn: (answer, task) => (answer === SKY[task.id] ? 1 : 0) }],
      agent: async (task, context) => {
        episodes++;
        return skyAgent(task, context);
      },
      agentOptions: { maxTurns: 3 },
    });
    try {
      const first = await trainer.train(SKY_TASKS.slice(0, 2));
      expect(first.extra?.["episode/failed"]).toBe(0);
      expect(trainer.workerCount).toBe(2);
      const group = (trainer as unknown as { workers: TrainerWorkers }).workers.running;
      const pool = (group as unknown as { pool: { request: (...args: unknown[]) => Promise<unknown> } }).pool;
      await expect(
        pool.request(1, { type: "fail", how: "exit" }, { policy: false, reference: false }),
      ).rejects.toThrow(/exited with code 3/);
      const before = episodes;
      const error = await trainer.train(SKY_TASKS.slice(0, 2)).then(
        () => null,
        (caught: unknown) => caught as Error & { cause?: unknown },
      );
      expect(error?.message).toMatch(/failed during training: Policy worker 1 exited with code 3/);
      expect(BackendError.isInstance(error?.cause)).toBe(true);
      expect(episodes - before).toBe(4); // the episodes ran (and failed on the model) before the step failed
    } finally {
      await trainer.dispose();
      policy.dispose();
    }
    expect(trainer.workerCount).toBe(1);
  }, 60_000);
});
