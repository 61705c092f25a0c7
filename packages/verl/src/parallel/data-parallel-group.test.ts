import { BackendError, InvalidArgumentError } from "@orbiter/types";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { currentBackend, initBackend } from "../backend/init-backend.js";
import { VeRLConfig } from "../config/verl-config.js";
import { expectSameGradients, gradientRecorder } from "../internal/testing/gradient-recorder.js";
import { movedPolicyPair } from "../internal/testing/policy-pair.js";
import type { TransformerPolicy } from "../model/transformer-policy.js";
import { CharTokenizer } from "../tokenizer/char-tokenizer.js";
import { runPolicyUpdate } from "../trainer/policy-update.js";
import { buildRolloutBatch } from "../trainer/rollout-batch.js";
import { DataParallelGroup } from "./data-parallel-group.js";

const tokenizer = CharTokenizer.fromCorpus(["abcdefgh"]);
let policy: TransformerPolicy;
let reference: TransformerPolicy;
let group: DataParallelGroup;

beforeAll(async () => {
  const backend = await initBackend();
  ({ policy, reference } = movedPolicyPair(tokenizer));
  group = await DataParallelGroup.start({ participants: 2, policy, reference, backend });
});

afterAll(async () => {
  await group.dispose();
  policy.dispose();
  reference.dispose();
});

describe("DataParallelGroup (2 participants)", () => {
  it("samples the tokens of one thread, with log-probs and values within float tolerance", async () => {
    expect(group.size).toBe(2);
    expect(group.startupMs).toBeGreaterThan(0);
    const prompts = ["ab", "cdefg", "a", "hh"];
    const options = { n: 3, maxNewTokens: 6, seed: 11, temperature: 1.3, withValues: true };
    const one = await policy.generate(prompts, options);
    const two = await group.generate(prompts, options);
    expect(two.responses).toEqual(one.responses);
    expect(two.sequences).toEqual(one.sequences);
    expect(two.attentionMask).toEqual(one.attentionMask);
    expect(two.responseMask).toEqual(one.responseMask);
    expect(two.promptIndex).toEqual(one.promptIndex);
    expect(two.texts).toEqual(one.texts);
    expect([two.promptLength, two.responseLength]).toEqual([one.promptLength, one.responseLength]);
    one.logProbs.forEach((row, r) => {
      row.forEach((x, j) => {
        expect(Math.abs((two.logProbs[r]?.[j] as number) - x)).toBeLessThan(1e-5);
        expect(Math.abs((two.values?.[r]?.[j] as number) - (one.values?.[r]?.[j] as number))).toBeLessThan(
          1e-5,
        );
      });
    });
  });

  it("computes reference log-probs and gradients equal to one thread's, leaking no tensors", async () => {
    const config = VeRLConfig.parse({
      algorithm: "ppo",
      batchSize: 4,
      groupSize: 2,
      microBatchSize: 3,
      gradClip: 1e9,
    });
    const generation = await policy.generate(["ab", "cd", "a", "bcd"], {
      n: 2,
      maxNewTokens: 5,
      seed: 3,
      withValues: true,
    });
    const scores = generation.texts.map((text) => text.length % 3);
    const shared = { config, policy, generation, scores, scoresAreAdvantages: false, klCoef: 0.1 };
    const referenceLogProbs = await group.referenceLogProbs(generation, 1);
    const single = buildRolloutBatch({ ...shared, reference });
    const split = buildRolloutBatch({ ...shared, reference: null, referenceLogProbs });
    const before = tf.memory().numTensors;
    const expected = await single.batch.refLogProbs?.array();
    referenceLogProbs.forEach((row, r) => {
      row.forEach((x, j) => {
        expect(Math.abs(x - (expected?.[r]?.[j] as number))).toBeLessThan(1e-5);
      });
    });
    const update = { config, policy, klCoef: 0.1, learningRate: 1e-3, seed: 4 };
    const a = gradientRecorder();
    const b = gradientRecorder();
    const ra = await runPolicyUpdate({ ...update, batch: single.batch, optimizer: a });
    const rb = await runPolicyUpdate({ ...update, batch: split.batch, optimizer: b, workers: group });
    expect(tf.memory().numTensors).toBe(before);
    single.batch.dispose();
    split.batch.dispose();
    expect(rb.applied).toBe(ra.applied);
    for (const name of ["actor/pg_loss", "actor/grad_norm", "critic/vf_loss", "actor/entropy"]) {
      expect(rb.metrics[name] as number, name).toBeCloseTo(ra.metrics[name] as number, 5);
    }
    expectSameGradients(b, a);
  });
});

describe("DataParallelGroup failures", () => {
  it("refuses a policy that is not a TransformerPolicy, naming config.workers", async () => {
    const fake = { ...policy } as unknown as TransformerPolicy;
    await expect(
      DataParallelGroup.start({
        participants: 2,
        policy: fake,
        reference: null,
        backend: currentBackend() ?? "cpu",
      }),
    ).rejects.toThrow(InvalidArgumentError);
  });

  it("fails a request with a BackendError when the worker throws, and keeps working", async () => {
    const backend = currentBackend() ?? "cpu";
    const local = await DataParallelGroup.start({ participants: 2, policy, reference: null, backend });
    const pool = (local as unknown as { pool: { request: (...args: unknown[]) => Promise<unknown> } }).pool;
    const none = { policy: false, reference: false };
    await expect(pool.request(1, { type: "fail", how: "throw" }, none)).rejects.toThrow(
      /Policy worker 1 failed: Error: failure requested/,
    );
    const again = await local.generate(["ab"], { n: 2, maxNewTokens: 3, seed: 1 });
    expect(again.batchSize).toBe(2);
    await local.dispose();
    await expect(local.generate(["ab"], { n: 2, maxNewTokens: 3 })).rejects.toThrow(BackendError);
  });

  it("fails the pending and every later request when a worker dies, and ends the others", async () => {
    const backend = currentBackend() ?? "cpu";
    const local = await DataParallelGroup.start({ participants: 3, policy, reference: null, backend });
    const pool = (
      local as unknown as { pool: { request: (...args: unknown[]) => Promise<unknown>; running: number } }
    ).pool;
    expect(pool.running).toBe(2);
    const none = { policy: false, reference: false };
    // The worker dies while this thread samples its own share of a rollout: the rollout fails (no unhandled
    // rejection), and so does every later request.
    const dying = pool.request(1, { type: "fail", how: "exit" }, none);
    const rollout = local.generate(["ab", "cd", "a"], { n: 2, maxNewTokens: 4 });
    await expect(dying).rejects.toThrow(/Policy worker 1 exited with code 3/);
    await expect(rollout).rejects.toThrow(BackendError);
    await expect(local.generate(["ab", "cd", "a"], { n: 1, maxNewTokens: 3 })).rejects.toThrow(
      /exited with code 3/,
    );
    await expect.poll(() => pool.running).toBe(0);
    await local.dispose();
  });

  it("ends every worker on dispose()", async () => {
    const local = await DataParallelGroup.start({
      participants: 3,
      policy,
      reference,
      backend: currentBackend() ?? "cpu",
    });
    const pool = (local as unknown as { pool: { running: number } }).pool;
    expect(pool.running).toBe(2);
    await local.dispose();
    expect(pool.running).toBe(0);
  });
});
