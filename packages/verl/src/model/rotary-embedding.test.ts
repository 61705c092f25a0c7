import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../backend/init-backend.js";
import { backendsForTests } from "../internal/testing/test-backends.js";
import { CharTokenizer } from "../tokenizer/char-tokenizer.js";
import { applyRotary, rotaryTables } from "./rotary-embedding.js";
import { TransformerPolicy } from "./transformer-policy.js";

const backends = await backendsForTests();
const tokenizer = CharTokenizer.fromCorpus(["abcdefghijklmnopqrstuvwxyz 0123456789"]);
const sizes = { contextLength: 24, dModel: 32, nHeads: 4, nLayers: 2, dMlp: 64 };

/** Per-head dot products of rotated rows `q` (at `p`) and `k` (at `r`), `[heads]`. */
function headScores(q: number[], k: number[], p: number, r: number, heads: number): number[] {
  return tf.tidy(() => {
    const d = q.length;
    const rotate = (row: number[], at: number) =>
      applyRotary(tf.tensor2d([row]), rotaryTables(tf.tensor1d([at], "int32"), d, heads), heads);
    const product = tf.mul(rotate(q, p), rotate(k, r)).reshape([heads, d / heads]);
    return Array.from(tf.sum(product, 1).dataSync());
  });
}

describe.each(backends)("rotary position embeddings on %s", (backend) => {
  let rotary: TransformerPolicy;
  let learned: TransformerPolicy;
  beforeAll(async () => {
    await initBackend({ backend });
    rotary = new TransformerPolicy({
      tokenizer,
      config: { ...sizes, rotary: true, valueHead: true },
      seed: 3,
    });
    learned = new TransformerPolicy({ tokenizer, config: { ...sizes, valueHead: true }, seed: 3 });
  });
  afterAll(() => {
    rotary.dispose();
    learned.dispose();
  });

  it("rotates by position: scores depend on the distance only, rotation keeps norms, position 0 is the identity", () => {
    const q = Array.from({ length: 16 }, (_, i) => Math.sin(i + 1));
    const k = Array.from({ length: 16 }, (_, i) => Math.cos(3 * i));
    const near = headScores(q, k, 5, 3, 2);
    const shifted = headScores(q, k, 17, 15, 2);
    near.forEach((value, head) => {
      expect(value).toBeCloseTo(shifted[head] as number, 4);
    });
    const far = headScores(q, k, 9, 3, 2);
    expect(Math.abs((far[0] as number) - (near[0] as number))).toBeGreaterThan(1e-3);
    const [rotatedNorm, identity] = tf.tidy(() => {
      const x = tf.tensor2d([q]);
      const at = (p: number) => applyRotary(x, rotaryTables(tf.tensor1d([p], "int32"), 16, 2), 2);
      return [tf.norm(at(7)).dataSync()[0] as number, Array.from(at(0).dataSync())];
    });
    expect(rotatedNorm).toBeCloseTo(Math.hypot(...q), 4);
    identity.forEach((value, i) => {
      expect(value).toBeCloseTo(q[i] as number, 6);
    });
  });

  it("changes the model's logits but not its parameters", () => {
    expect(rotary.parameterCount).toBe(learned.parameterCount);
    const gap = tf.tidy(() => {
      const tokens = tf.tensor2d([rotary.encodePrompt("hello world")], undefined, "int32");
      const a = rotary.forward({ tokens }).logits;
      const b = learned.forward({ tokens }).logits;
      return tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] as number;
    });
    expect(gap).toBeGreaterThan(1e-5);
  });

  it("gives a left-padded row the logits of the same row unpadded", () => {
    const ids = rotary.encodePrompt("hello");
    const gap = tf.tidy(() => {
      const padded = rotary
        .forward({
          tokens: tf.tensor2d([[0, 0, 0, ...ids]], undefined, "int32"),
          attentionMask: tf.tensor2d([[0, 0, 0, ...ids.map(() => 1)]]),
        })
        .logits.slice([0, 3, 0]);
      const alone = rotary.forward({ tokens: tf.tensor2d([ids], undefined, "int32") }).logits;
      return tf.max(tf.abs(tf.sub(padded, alone))).dataSync()[0] as number;
    });
    expect(gap).toBeLessThan(1e-4);
  });

  it("trains through the rotation without leaking tensors, and saves and loads it", async () => {
    const tokens = tf.tensor2d([rotary.encodePrompt("abc abc abc")], undefined, "int32");
    const loss = () =>
      tf.tidy(() => {
        const out = rotary.logProbs({ tokens, responseStart: 1 });
        return tf.neg(tf.mean(out.logProbs)) as tf.Scalar;
      });
    const before = loss();
    const firstLoss = before.dataSync()[0] as number;
    before.dispose();
    const tensors = tf.memory().numTensors;
    const variables = rotary.trainableVariables();
    for (let step = 0; step < 5; step++) {
      tf.tidy(() => {
        const { grads } = tf.variableGrads(loss, variables);
        const query = grads[variables[2]!.name];
        expect(Number.isFinite(tf.sum(tf.abs(query!)).dataSync()[0])).toBe(true);
        for (const variable of variables) {
          const grad = grads[variable.name];
          if (grad) variable.assign(tf.sub(variable, tf.mul(grad, 0.05)));
        }
      });
    }
    expect(tf.memory().numTensors).toBe(tensors);
    const after = loss();
    expect(after.dataSync()[0]).toBeLessThan(firstLoss);
    after.dispose();
    const directory = await mkdtemp(join(tmpdir(), "orbiter-verl-rotary-"));
    try {
      await rotary.save(directory);
      const loaded = await TransformerPolicy.load(directory);
      expect(loaded.config.rotary).toBe(true);
      const gap = tf.tidy(() => {
        const a = loaded.forward({ tokens }).logits;
        const b = rotary.forward({ tokens }).logits;
        return tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] as number;
      });
      expect(gap).toBe(0);
      loaded.dispose();
    } finally {
      tokens.dispose();
      await rm(directory, { recursive: true, force: true });
    }
  });
});
