import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CheckpointError, InvalidArgumentError, InvalidStateError } from "@orbiter/types";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../backend/init-backend.js";
import { MODEL_FILE, writeModelCheckpoint } from "../checkpoint/model-checkpoint.js";
import { checkSafetensorsLayout } from "../internal/testing/check-safetensors-layout.js";
import { backendsForTests } from "../internal/testing/test-backends.js";
import { AdamOptimizer } from "../optim/adam-optimizer.js";
import { OPTIMIZER_FILE } from "../optim/optimizer-checkpoint.js";
import { batchedGenerate } from "../rollout/batched-generate.js";
import { GenerateOptions } from "../rollout/generate-options.js";
import { supervisedFineTune } from "../sft/supervised-fine-tune.js";
import { CharTokenizer } from "../tokenizer/char-tokenizer.js";
import { loadCheckpoint, saveCheckpoint } from "../trainer/training-checkpoint.js";
import { TransformerPolicy } from "./transformer-policy.js";

const backends = await backendsForTests();
const tokenizer = CharTokenizer.fromCorpus(["abcdefghijklmnopqrstuvwxyz 0123456789"]);
const small = { contextLength: 24, dModel: 32, nHeads: 4, nLayers: 2, dMlp: 64 };

describe.each(backends)("TransformerPolicy on %s", (backend) => {
  let policy: TransformerPolicy;
  let directory: string;
  beforeAll(async () => {
    await initBackend({ backend });
    policy = new TransformerPolicy({ tokenizer, config: { ...small, valueHead: true }, seed: 3 });
    directory = await mkdtemp(join(tmpdir(), "orbiter-verl-policy-"));
  });
  afterAll(async () => {
    policy.dispose();
    await rm(directory, { recursive: true, force: true });
  });

  it("has the reference workload's parameter count at the default sizes", () => {
    const alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".split("");
    const reference = new TransformerPolicy({ tokenizer: new CharTokenizer(alphabet) });
    expect(reference.config.vocabSize).toBe(66);
    const perBlock = 4 * 128 + 4 * (128 * 128 + 128) + 128 * 512 + 512 + 512 * 128 + 128;
    expect(reference.parameterCount).toBe(66 * 128 + 64 * 128 + 2 * perBlock + 2 * 128 + 128 * 66 + 66);
    reference.dispose();
  });

  it("initialises the same weights for the same seed, different ones for another", () => {
    const a = new TransformerPolicy({ tokenizer, config: small, seed: 11 });
    const b = new TransformerPolicy({ tokenizer, config: small, seed: 11 });
    const c = new TransformerPolicy({ tokenizer, config: small, seed: 12 });
    const wa = a.getWeights().get("blocks.1.mlp.in.weight")!.data;
    expect(b.getWeights().get("blocks.1.mlp.in.weight")!.data).toEqual(wa);
    expect(c.getWeights().get("blocks.1.mlp.in.weight")!.data).not.toEqual(wa);
    for (const p of [a, b, c]) p.dispose();
  });

  it.each([
    ["learned", false],
    ["rotary", true],
  ])(
    "gives the KV-cache sampler the log-probs and values of a full forward, %s positions (left-padded prompts)",
    async (_positions, rotary) => {
      const subject = rotary
        ? new TransformerPolicy({ tokenizer, config: { ...small, rotary, valueHead: true }, seed: 3 })
        : policy;
      try {
        const rollout = await subject.generate(["ab", "abcdefg", "q"], {
          n: 2,
          maxNewTokens: 8,
          seed: 5,
          stopAtEos: false,
          temperature: 0.7,
          withValues: true,
        });
        const [full, values] = tf.tidy(() => {
          const out = subject.logProbs({
            tokens: tf.tensor2d(rollout.sequences, undefined, "int32"),
            attentionMask: tf.tensor2d(rollout.attentionMask),
            responseStart: rollout.promptLength,
            temperature: 0.7,
            withValues: true,
          });
          return [out.logProbs.arraySync(), out.values!.arraySync()];
        });
        expect(rollout.responseLength).toBe(8);
        expect(rollout.promptIndex).toEqual([0, 0, 1, 1, 2, 2]);
        expect(rollout.values).toHaveLength(6);
        for (let row = 0; row < rollout.batchSize; row++) {
          for (let j = 0; j < rollout.responseLength; j++) {
            expect(Math.abs(full[row]![j]! - rollout.logProbs[row]![j]!)).toBeLessThan(1e-4);
            expect(Math.abs(values[row]![j]! - rollout.values![row]![j]!)).toBeLessThan(1e-5);
          }
        }
        const plain = await subject.generate(["ab"], { n: 1, maxNewTokens: 2, seed: 5 });
        expect(plain.values).toBeUndefined();
      } finally {
        if (subject !== policy) subject.dispose();
      }
    },
  );

  it("samples each row from its own stream: a batch split at any row draws the same tokens", async () => {
    const prompts = [policy.encodePrompt("abc"), policy.encodePrompt("xyz"), policy.encodePrompt("q r")];
    const options = GenerateOptions.parse({ n: 2, maxNewTokens: 7, seed: 4, stopAtEos: false });
    const whole = await batchedGenerate(policy, tokenizer, prompts, options);
    const head = await batchedGenerate(policy, tokenizer, prompts.slice(0, 1), options);
    const tail = await batchedGenerate(policy, tokenizer, prompts.slice(1), options, { firstRow: 2 });
    expect([...head.responses, ...tail.responses]).toEqual(whole.responses);
    const shifted = await batchedGenerate(policy, tokenizer, prompts.slice(1), options);
    expect(shifted.responses).not.toEqual(tail.responses);
  });

  it("decodes with the KV cache to the same full logit vectors as a forward pass (within 1e-4)", () => {
    // Two prompts of different lengths, left-padded; then 6 fed tokens per row.
    const prompts = [policy.encodePrompt("abc"), policy.encodePrompt("hello w")];
    const width = Math.max(...prompts.map((p) => p.length));
    const fed = [
      [5, 9, 13, 2, 7, 7],
      [11, 4, 4, 20, 6, 8],
    ];
    const rows = prompts.map((p, r) => [...new Array(width - p.length).fill(0), ...p, ...fed[r]!]);
    const mask = prompts.map((p, r) => [
      ...new Array(width - p.length).fill(0),
      ...p.map(() => 1),
      ...fed[r]!.map(() => 1),
    ]);
    let worst = 0;
    tf.tidy(() => {
      const full = policy
        .forward({ tokens: tf.tensor2d(rows, undefined, "int32"), attentionMask: tf.tensor2d(mask) })
        .logits.arraySync();
      const promptTokens = tf.tensor2d(
        rows.map((r) => r.slice(0, width)),
        undefined,
        "int32",
      );
      const promptMask = tf.tensor2d(mask.map((m) => m.slice(0, width)));
      let { logits, cache } = policy.prefill(promptTokens, promptMask, 1);
      for (let step = 0; step <= fed[0]!.length; step++) {
        const decoded = logits.arraySync();
        for (let r = 0; r < rows.length; r++) {
          const expected = full[r]![width - 1 + step]!;
          decoded[r]!.forEach((value, v) => {
            worst = Math.max(worst, Math.abs(value - expected[v]!));
          });
        }
        if (step === fed[0]!.length) break;
        const tokens = Int32Array.from(fed.map((f) => f[step]!));
        const positions = Int32Array.from(prompts.map((p) => p.length + step));
        ({ logits, cache } = policy.step(cache, tokens, positions));
      }
    });
    expect(worst).toBeLessThan(1e-4);
  });

  it("gives a left-padded row the logits of the same row unpadded", () => {
    const ids = policy.encodePrompt("hello");
    const [padded, alone] = tf.tidy(() => {
      const pad = [0, 0, 0];
      const both = tf.tensor2d([[...pad, ...ids]], undefined, "int32");
      const mask = tf.tensor2d([[0, 0, 0, ...ids.map(() => 1)]]);
      const a = policy.forward({ tokens: both, attentionMask: mask }).logits.slice([0, 3, 0]).arraySync();
      const b = policy.forward({ tokens: tf.tensor2d([ids], undefined, "int32") }).logits.arraySync();
      return [a, b];
    }) as unknown as [number[][][], number[][][]];
    padded[0]!.forEach((row, t) => {
      row.forEach((value, v) => {
        expect(Math.abs(value - alone[0]![t]![v]!)).toBeLessThan(1e-4);
      });
    });
  });

  it("returns entropy and values aligned with the log-probabilities", () => {
    const out = tf.tidy(() => {
      const tokens = tf.tensor2d([policy.encodePrompt("abc d")], undefined, "int32");
      const { logProbs, entropy, values } = policy.logProbs({
        tokens,
        responseStart: 2,
        withEntropy: true,
        withValues: true,
      });
      const { logits, values: allValues } = policy.forward({ tokens });
      const expectedEntropy = tf.neg(tf.sum(tf.mul(tf.softmax(logits), tf.logSoftmax(logits)), 2));
      return [
        logProbs.shape,
        entropy!.arraySync(),
        expectedEntropy.slice([0, 1], [1, 4]).arraySync(),
        values!.arraySync(),
        allValues!.slice([0, 1], [1, 4]).arraySync(),
      ];
    }) as unknown as [number[], number[][], number[][], number[][], number[][]];
    expect(out[0]).toEqual([1, 4]);
    out[1][0]!.forEach((value, i) => {
      expect(value).toBeCloseTo(out[2][0]![i]!, 4);
    });
    out[3][0]!.forEach((value, i) => {
      expect(value).toBeCloseTo(out[4][0]![i]!, 5);
    });
  });

  it("samples reproducibly for a seed, greedily with topK 1, and stops at EOS", async () => {
    const options = { n: 3, maxNewTokens: 10, seed: 9, topK: 5, topP: 0.9 };
    const a = await policy.generate(["abc", "x"], options);
    const b = await policy.generate(["abc", "x"], options);
    expect(a).toEqual(b);
    const c = await policy.generate(["abc", "x"], { ...options, seed: 10 });
    expect(c.responses).not.toEqual(a.responses);
    const topOne = await policy.generate(["abc"], { n: 2, maxNewTokens: 6, topK: 1, seed: 1 });
    const greedy = await policy.generate(["abc"], { n: 1, maxNewTokens: 6, greedy: true });
    expect(topOne.responses[0]).toEqual(greedy.responses[0]);
    expect(topOne.responses[1]).toEqual(greedy.responses[0]);
    for (let row = 0; row < a.batchSize; row++) {
      const response = a.responses[row]!;
      const stop = response.indexOf(tokenizer.eosId);
      expect(a.finished[row]).toBe(stop >= 0);
      if (stop >= 0) expect(stop).toBe(response.length - 1);
      expect(a.responseMask[row]!.reduce((s, m) => s + m, 0)).toBe(response.length);
    }
  });

  it("only samples tokens inside the top-k set of the model's distribution", async () => {
    const rollout = await policy.generate(["hello", "abc"], {
      n: 4,
      maxNewTokens: 6,
      topK: 3,
      seed: 2,
      stopAtEos: false,
    });
    const logits = tf.tidy(() =>
      policy
        .forward({
          tokens: tf.tensor2d(rollout.sequences, undefined, "int32"),
          attentionMask: tf.tensor2d(rollout.attentionMask),
        })
        .logits.arraySync(),
    );
    for (let row = 0; row < rollout.batchSize; row++) {
      rollout.responses[row]!.forEach((token, j) => {
        const scores = logits[row]![rollout.promptLength + j - 1]!;
        const higher = scores.filter((score) => score > scores[token]!).length;
        expect(higher).toBeLessThan(3);
      });
    }
  });

  it("rejects bad input with InvalidArgumentError", async () => {
    await expect(policy.generate(["abc"], { maxNewTokens: 30 })).rejects.toThrow(InvalidArgumentError);
    await expect(policy.generate([], {})).rejects.toThrow(/prompts/);
    await expect(policy.generate([[999]], {})).rejects.toThrow(/prompts\[0\]/);
    await expect(policy.generate(["a"], { topP: 0 })).rejects.toThrow(/topP/);
    // A prompt that fills the context names the prompt, not maxNewTokens; a shorter one that leaves too little
    // room names maxNewTokens.
    await expect(policy.generate(["ab", "x".repeat(30)], { maxNewTokens: 1 })).rejects.toMatchObject({
      field: "prompts[1]",
    });
    await expect(policy.generate(["abc"], { maxNewTokens: 30 })).rejects.toMatchObject({
      field: "maxNewTokens",
    });
    expect(() =>
      tf.tidy(() => policy.logProbs({ tokens: tf.zeros([1, 4], "int32"), responseStart: 4 }).logProbs),
    ).toThrow(/responseStart/);
    expect(() => new TransformerPolicy({ tokenizer, config: { vocabSize: 99 } })).toThrow(
      /config\.vocabSize/,
    );
    expect(() => new TransformerPolicy({ tokenizer, config: { dModel: 30, nHeads: 4 } })).toThrow(
      /config.nHeads/,
    );
  });

  it("refuses weights of the wrong shape, naming them", () => {
    const weights = policy.getWeights();
    weights.set("lm_head.bias", { shape: [3], data: new Float32Array(3) });
    weights.delete("final_ln.gain");
    expect(() => policy.setWeights(weights)).toThrow(CheckpointError);
    expect(() => policy.setWeights(weights)).toThrow(
      /final_ln\.gain.*lm_head\.bias|lm_head\.bias.*final_ln\.gain/,
    );
  });

  it("clones into an independent (optionally frozen) copy", () => {
    const reference = policy.clone({ frozen: true });
    expect(reference.frozen).toBe(true);
    expect(reference.trainableVariables()).toEqual([]);
    expect(reference.getWeights()).toEqual(policy.getWeights());
    const copy = policy.clone();
    tf.tidy(() => copy.parameters()[0]!.variable.assign(tf.zerosLike(copy.parameters()[0]!.variable)));
    expect(reference.getWeights().get("token_embedding")).toEqual(policy.getWeights().get("token_embedding"));
    reference.dispose();
    copy.dispose();
    expect(() => copy.parameters()).toThrow(InvalidStateError);
  });

  it("saves and loads exactly, with optimiser state, in a valid safetensors file", async () => {
    const optimizer = new AdamOptimizer(policy.parameters(), { learningRate: 0.01 });
    await supervisedFineTune(policy, [{ input: "ab", output: "cd" }], { epochs: 2, optimizer });
    const target = join(directory, "step-2");
    await saveCheckpoint(target, { policy, optimizer });
    const bytes = await readFile(join(target, MODEL_FILE));
    expect(checkSafetensorsLayout(bytes)).toEqual([]);
    expect(checkSafetensorsLayout(await readFile(join(target, OPTIMIZER_FILE)))).toEqual([]);
    const { policy: loaded, optimizerState } = await loadCheckpoint(target);
    expect(loaded.config).toEqual(policy.config);
    expect(loaded.tokenizer.toJSON()).toEqual(tokenizer.toJSON());
    expect(loaded.getWeights()).toEqual(policy.getWeights());
    expect(optimizerState!.step).toBe(2);
    expect(optimizerState).toEqual(optimizer.getState());
    // TransformerPolicy.load keeps the saved moments on the policy (VeRLTrainer carries them); a copy does not.
    const direct = await TransformerPolicy.load(target);
    expect(direct.optimizerState).toEqual(optimizer.getState());
    const copy = direct.clone();
    expect(copy.optimizerState).toBeUndefined();
    copy.dispose();
    direct.dispose();
    // A frozen policy (a reference model) never trains: the optimiser file is not read, even when damaged.
    await writeFile(join(target, OPTIMIZER_FILE), "not safetensors");
    const frozen = await TransformerPolicy.load(target, { frozen: true });
    expect(frozen.optimizerState).toBeUndefined();
    expect(frozen.getWeights()).toEqual(policy.getWeights());
    frozen.dispose();
    await expect(TransformerPolicy.load(target)).rejects.toThrow(CheckpointError);
    const restored = new AdamOptimizer(loaded.parameters(), { learningRate: 0.01 });
    restored.setState(optimizerState!);
    // One more identical step on each side gives identical weights.
    await supervisedFineTune(policy, [{ input: "ab", output: "cd" }], { optimizer, shuffle: false });
    await supervisedFineTune(loaded, [{ input: "ab", output: "cd" }], {
      optimizer: restored,
      shuffle: false,
    });
    expect(loaded.getWeights()).toEqual(policy.getWeights());
    optimizer.dispose();
    restored.dispose();
    loaded.dispose();
  });

  it("names what does not match when a checkpoint is loaded into other sizes", async () => {
    const target = join(directory, "mismatch");
    await policy.save(target);
    // Saved without an optimiser: the loaded policy carries no moments.
    const weightsOnly = await TransformerPolicy.load(target);
    expect(weightsOnly.optimizerState).toBeUndefined();
    weightsOnly.dispose();
    const other = new TransformerPolicy({ tokenizer, config: { ...small, dMlp: 48 } });
    const { weights } = await import("../checkpoint/model-checkpoint.js").then((m) =>
      m.readModelCheckpoint(target),
    );
    expect(() => other.setWeights(weights)).toThrow(
      /blocks\.0\.mlp\.in\.weight" has shape \[32,64\], expected \[32,48\]/,
    );
    other.dispose();
    await expect(loadCheckpoint(join(directory, "missing"))).rejects.toThrow(CheckpointError);
    const broken = join(directory, "broken");
    await writeModelCheckpoint(broken, weights, {
      "orbiter.policy": "transformer",
      "orbiter.config": JSON.stringify({ ...small, dModel: 30 }),
      "orbiter.tokenizer": JSON.stringify(tokenizer.toJSON()),
    });
    await expect(loadCheckpoint(broken)).rejects.toThrow(/invalid config or tokenizer metadata/);
  });

  it("keeps tf.memory().numTensors flat across 50 generate and fine-tune steps", async () => {
    const samples = [
      { input: "ab", output: "ba" },
      { input: "cd", output: "dc" },
    ];
    await policy.generate(["ab"], { n: 2, maxNewTokens: 4 });
    await supervisedFineTune(policy, samples, { batchSize: 2 });
    const before = tf.memory().numTensors;
    for (let i = 0; i < 50; i++) {
      await policy.generate(["ab", "abc"], { n: 2, maxNewTokens: 4, seed: i, stopAtEos: i % 2 === 0 });
      await supervisedFineTune(policy, samples, { batchSize: 2, seed: i });
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
