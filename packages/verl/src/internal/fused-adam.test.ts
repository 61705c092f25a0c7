import { SeededRandom } from "@orbiter/types";
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { initBackend } from "../backend/init-backend.js";
import { type AdamStepScalars, fitsFusedAdam, fusedAdamStep } from "./fused-adam.js";
import { backendsForTests } from "./testing/test-backends.js";

const wasmPresent = (await backendsForTests()).includes("wasm");

function random(size: number, seed: number, scale: number, positive = false): tf.Tensor {
  const rng = new SeededRandom(seed);
  const data = Float32Array.from({ length: size }, () => {
    const x = rng.normal(0, scale);
    return positive ? x * x : x;
  });
  return tf.tensor1d(data);
}

/** The tfjs ops of AdamOptimizer's unfused path, in the same order. */
function opChain(p: tf.Tensor, g: tf.Tensor, m: tf.Tensor, v: tf.Tensor, s: AdamStepScalars): tf.Tensor[] {
  const m2 = tf.add(tf.mul(m, s.beta1), tf.mul(g, 1 - s.beta1));
  const v2 = tf.add(tf.mul(v, s.beta2), tf.mul(tf.square(g), 1 - s.beta2));
  const denominator = tf.add(tf.div(tf.sqrt(v2), s.correction2), s.epsilon);
  let next = tf.sub(p, tf.mul(tf.div(m2, denominator), s.stepSize));
  if (s.withDecay) next = tf.sub(next, tf.mul(p, s.decay));
  return [next, m2, v2];
}

describe.runIf(wasmPresent)("the fused Adam kernel", () => {
  it.each([
    ["without weight decay", 0],
    ["with weight decay", 0.01],
  ])("gives the same floats as the tfjs ops it replaces, %s", async (_, weightDecay) => {
    await initBackend({ backend: "wasm" });
    const before = tf.memory().numTensors;
    const lr = 3e-4;
    for (const step of [1, 2, 10]) {
      const scalars: AdamStepScalars = {
        beta1: 0.9,
        beta2: 0.999,
        correction2: Math.sqrt(1 - 0.999 ** step),
        epsilon: 1e-8,
        stepSize: lr / (1 - 0.9 ** step),
        decay: lr * weightDecay,
        withDecay: weightDecay > 0,
      };
      const [fused, chain] = tf.tidy(() => {
        const p = random(1024, step, 1);
        const g = random(1024, step + 100, 0.01);
        const m = random(1024, step + 200, 0.001);
        const v = random(1024, step + 300, 1e-4, true);
        expect(fitsFusedAdam(p, g)).toBe(true);
        return [fusedAdamStep(p, g, m, v, scalars), opChain(p, g, m, v, scalars)].map((outputs) =>
          outputs.map((t) => Array.from(t.dataSync())),
        );
      });
      // Moments and weights bit for bit, and the weights did move.
      expect(fused).toEqual(chain);
      expect(fused?.[0]).not.toEqual(tf.tidy(() => Array.from(random(1024, step, 1).dataSync())));
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it("leaves parameters whose size is not a multiple of 4 to the tfjs ops", async () => {
    await initBackend({ backend: "wasm" });
    const [odd, even, four] = [tf.zeros([3]), tf.zeros([8]), tf.zeros([4])];
    expect(fitsFusedAdam(odd, odd)).toBe(false);
    expect(fitsFusedAdam(even, even)).toBe(true);
    expect(fitsFusedAdam(even, four)).toBe(false);
    tf.dispose([odd, even, four]);
  });
});
