import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { availableBackends, initBackend } from "./init-backend.js";

const hasWasm = (await availableBackends()).includes("wasm");

describe.runIf(hasWasm)("Identity on wasm shares the input's buffer", () => {
  it("a clone keeps its values when the original, or a variable it was taken from, changes or goes", async () => {
    await initBackend({ backend: "wasm" });
    const before = tf.memory().numTensors;
    const x = tf.tensor1d([1, 2, 3, 4]);
    const copy = tf.clone(x);
    x.dispose();
    expect(Array.from(copy.dataSync())).toEqual([1, 2, 3, 4]);
    const variable = tf.variable(copy);
    const snapshot = tf.clone(variable);
    const next = tf.tensor1d([5, 6, 7, 8]);
    variable.assign(next);
    next.dispose();
    expect(Array.from(snapshot.dataSync())).toEqual([1, 2, 3, 4]);
    expect(Array.from(variable.dataSync())).toEqual([5, 6, 7, 8]);
    tf.dispose([copy, variable, snapshot]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("gradients that save inputs for the backward pass match the cpu backend", async () => {
    const f = (a: tf.Tensor) => tf.sum(tf.mul(tf.mul(a, a), tf.exp(a))) as tf.Scalar;
    const values = [0.5, -1, 2, 0.25];
    const gradient = async (backend: "wasm" | "cpu") => {
      await initBackend({ backend });
      return tf.tidy(() => Array.from(tf.grad(f)(tf.tensor1d(values)).dataSync()));
    };
    const expected = await gradient("cpu");
    const actual = await gradient("wasm");
    actual.forEach((value, i) => {
      expect(value).toBeCloseTo(expected[i]!, 5);
    });
  });
});
