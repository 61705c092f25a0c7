import { InvalidArgumentError } from "@orbiter/types";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../backend/init-backend.js";
import { AdamOptimizer } from "./adam-optimizer.js";

beforeAll(async () => {
  await initBackend();
});

describe("AdamOptimizer learning rate", () => {
  it("accepts 0 between steps (a schedule's last step): the weights stay, the moments and step advance", () => {
    const variable = tf.variable(tf.tensor1d([1, -2, 3]), true, "adam-test/zero-lr");
    const optimizer = new AdamOptimizer([{ name: "w", variable }], { learningRate: 0.1 });
    const gradient = tf.tensor1d([0.5, -0.5, 2]);
    optimizer.applyGradients({ [variable.name]: gradient });
    // First step: every weight moves by the full rate against its gradient's sign.
    const afterFirst = Array.from(variable.dataSync());
    [0.9, -1.9, 2.9].forEach((value, i) => {
      expect(afterFirst[i]).toBeCloseTo(value, 6);
    });
    optimizer.learningRate = 0;
    optimizer.applyGradients({ [variable.name]: gradient });
    expect(Array.from(variable.dataSync())).toEqual(afterFirst);
    expect(optimizer.step).toBe(2);
    // m = 0.9 · (0.1 g) + 0.1 g = 0.19 g after the two steps.
    const m = Array.from(optimizer.getState().moments.get("w")?.m.data ?? []);
    [0.095, -0.095, 0.38].forEach((value, i) => {
      expect(m[i]).toBeCloseTo(value, 6);
    });
    for (const bad of [-1e-3, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => {
        optimizer.learningRate = bad;
      }).toThrow(InvalidArgumentError);
    }
    gradient.dispose();
    optimizer.dispose();
    variable.dispose();
  });
});
