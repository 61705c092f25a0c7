import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../backend/init-backend.js";
import { backendsForTests } from "../internal/testing/test-backends.js";
import { CharTokenizer } from "../tokenizer/char-tokenizer.js";
import { keptRows } from "./kept-positions.js";
import { TransformerPolicy } from "./transformer-policy.js";

const backends = await backendsForTests();
const tokenizer = CharTokenizer.fromCorpus(["abcdefghijklmnopqrstuvwxyz 0123456789"]);
// Widths the SIMD kernels take (multiples of 8), so that on wasm the selected rows go through them.
const sizes = { contextLength: 16, dModel: 32, nHeads: 4, nLayers: 2, dMlp: 64, valueHead: true };

describe("keptRows", () => {
  it("picks positions start .. start + count − 1 of every sequence, in order", () => {
    const rows = tf.tensor2d(
      Array.from({ length: 2 * 5 * 2 }, (_, i) => i),
      [10, 2],
    );
    const picked = keptRows(2, 5, { start: 1, count: 3 })(rows);
    expect(picked.shape).toEqual([6, 2]);
    expect(Array.from(picked.dataSync())).toEqual([2, 3, 4, 5, 6, 7, 12, 13, 14, 15, 16, 17]);
    expect(keptRows(2, 5, { start: 0, count: 5 })(rows)).toBe(rows);
    tf.dispose([rows, picked]);
  });
});

describe.each(backends)("log-probabilities from the kept positions only, on %s", (backend) => {
  let policy: TransformerPolicy;
  beforeAll(async () => {
    await initBackend({ backend });
    policy = new TransformerPolicy({ tokenizer, config: sizes, seed: 11 });
  });

  /**
   * The loss `Σ log p + 0.5·Σ values` from `logProbs` (whose last block runs on the scored positions only) and the
   * same loss from a full `forward`, with their gradients for every parameter.
   */
  function bothWays(tokens: tf.Tensor2D, start: number) {
    const length = tokens.shape[1];
    const count = length - start;
    const variables = policy.trainableVariables();
    const viaLogProbs = tf.variableGrads(() => {
      const { logProbs, values } = policy.logProbs({ tokens, responseStart: start, withValues: true });
      return tf.add(tf.sum(logProbs), tf.mul(0.5, tf.sum(values!))) as tf.Scalar;
    }, variables);
    const viaForward = tf.variableGrads(() => {
      const { logits, values } = policy.forward({ tokens });
      const scoring = tf.slice(logits, [0, start - 1, 0], [-1, count, -1]);
      const targets = tf.cast(tf.slice(tokens, [0, start], [-1, count]), "int32") as tf.Tensor2D;
      const picked = tf.mul(tf.logSoftmax(scoring), tf.oneHot(targets, tokenizer.vocabSize));
      const scoredValues = tf.slice(values!, [0, start - 1], [-1, count]);
      return tf.add(tf.sum(picked), tf.mul(0.5, tf.sum(scoredValues))) as tf.Scalar;
    }, variables);
    return { viaLogProbs, viaForward, variables };
  }

  it("gives the loss and every gradient of a full forward (within 1e-5)", () => {
    // 4 sequences of 12 tokens scored from position 4: 32 kept rows of 48.
    const rows = Array.from({ length: 4 }, (_, b) =>
      Array.from({ length: 12 }, (_, t) => (7 * b + 3 * t + 1) % tokenizer.vocabSize),
    );
    const tokens = tf.tensor2d(rows, undefined, "int32");
    const { viaLogProbs, viaForward, variables } = bothWays(tokens, 4);
    expect(viaLogProbs.value.dataSync()[0]).toBeCloseTo(viaForward.value.dataSync()[0]!, 4);
    let largest = 0;
    for (const variable of variables) {
      const ours = viaLogProbs.grads[variable.name]!.dataSync();
      const full = viaForward.grads[variable.name]!.dataSync();
      expect(ours.length).toBe(full.length);
      for (let i = 0; i < ours.length; i++) {
        const difference = Math.abs(ours[i]! - full[i]!);
        largest = Math.max(largest, Math.abs(full[i]!));
        expect(difference).toBeLessThan(1e-5);
      }
    }
    // The comparison means something: the gradients are far from zero.
    expect(largest).toBeGreaterThan(1e-2);
    tf.dispose([tokens, viaLogProbs.value, viaForward.value]);
    tf.dispose(Object.values(viaLogProbs.grads));
    tf.dispose(Object.values(viaForward.grads));
  });
});
