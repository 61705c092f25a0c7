import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../backend/init-backend.js";
import { TransformerPolicy } from "../model/transformer-policy.js";
import { CharTokenizer } from "../tokenizer/char-tokenizer.js";
import { backtrackShare, StepAnchor } from "./step-backtrack.js";

beforeAll(async () => {
  await initBackend();
});

describe("StepAnchor", () => {
  it("moves the policy's weights to θ₀ + α·(θ − θ₀), leaves the value head, and holds no extra tensor", () => {
    const policy = new TransformerPolicy({
      tokenizer: CharTokenizer.fromCorpus(["ab"]),
      config: { dModel: 8, nHeads: 2, nLayers: 1, dMlp: 16, contextLength: 8, valueHead: true },
      seed: 3,
    });
    const start = policy.getWeights() as Map<string, { data: Float32Array }>;
    const anchor = new StepAnchor(policy);
    // A "step": every weight +1.
    for (const variable of policy.trainableVariables()) {
      tf.tidy(() => variable.assign(tf.add(variable, 1)));
    }
    const before = tf.memory();
    anchor.shrink(0.25);
    anchor.shrink(1); // a share of 1 keeps the weights as they are
    // Each shrink replaced the weights' data and freed the old: no tensor or byte more than before.
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numBytes).toBe(before.numBytes);
    const after = policy.getWeights() as Map<string, { data: Float32Array }>;
    let checked = 0;
    for (const [name, { data }] of start) {
      const moved = (after.get(name) as { data: Float32Array }).data;
      const step = name.startsWith("value_head.") ? 1 : 0.25;
      data.forEach((x0, i) => {
        expect(Math.abs((moved[i] as number) - (x0 + step)), name).toBeLessThan(1e-6);
        checked++;
      });
    }
    expect(checked).toBeGreaterThan(0);
    anchor.dispose();
    policy.dispose();
  });

  it("keeps √(bound / KL) of a step past the bound, all of one within it", () => {
    expect(backtrackShare(8e-4, 2e-4)).toBeCloseTo(0.5, 12);
    expect(backtrackShare(2e-4, 2e-4)).toBe(1);
    expect(backtrackShare(1e-5, 2e-4)).toBe(1);
  });
});
