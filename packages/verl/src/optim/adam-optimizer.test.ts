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

describe("AdamOptimizer bias correction per parameter", () => {
  it("gives a parameter whose carried moments are zero a fresh Adam's first step, and saves the counts", async () => {
    const trained = tf.variable(tf.tensor1d([1, 1]), true, "adam-test/carried-trained");
    const head = tf.variable(tf.tensor1d([1, 1]), true, "adam-test/carried-head");
    const parameters = [
      { name: "trained", variable: trained },
      { name: "head", variable: head },
    ];
    // A fine-tuning's state after 100 steps: moments for `trained`, zeros for `head` (it never had a gradient).
    const carried = {
      step: 100,
      moments: new Map([
        [
          "trained",
          {
            m: { shape: [2], data: Float32Array.of(0.01, 0.01) },
            v: { shape: [2], data: Float32Array.of(1e-4, 1e-4) },
          },
        ],
        [
          "head",
          { m: { shape: [2], data: new Float32Array(2) }, v: { shape: [2], data: new Float32Array(2) } },
        ],
      ]),
    };
    const optimizer = new AdamOptimizer(parameters, { learningRate: 0.1 });
    optimizer.setState(carried);
    const gradient = tf.tensor1d([0.5, -0.5]);
    // The head follows a fresh Adam's path bit for bit: ten steps of a steady gradient against a fresh optimiser.
    // Counted from the run's step (101, …) instead, its bias correction would be ≈ 1 for m̂ but ≈ 0.31 for √v̂,
    // and its steps would grow to several times a fresh Adam's.
    const alone = tf.variable(tf.tensor1d([1, 1]), true, "adam-test/fresh-head");
    const fresh = new AdamOptimizer([{ name: "head", variable: alone }], { learningRate: 0.1 });
    for (let i = 0; i < 10; i++) {
      optimizer.applyGradients({ [head.name]: gradient });
      fresh.applyGradients({ [alone.name]: gradient });
    }
    expect(Array.from(head.dataSync())).toEqual(Array.from(alone.dataSync()));
    expect(head.dataSync()[0]).toBeLessThan(0.2);
    expect(Array.from(trained.dataSync())).toEqual([1, 1]);
    const state = optimizer.getState();
    expect(state.step).toBe(110);
    expect(state.steps).toEqual(
      new Map([
        ["trained", 100],
        ["head", 10],
      ]),
    );
    // A second optimiser restored from that state continues bit for bit.
    const twin = [tf.variable(trained.clone(), true), tf.variable(head.clone(), true)];
    const restored = new AdamOptimizer(
      [
        { name: "trained", variable: twin[0]! },
        { name: "head", variable: twin[1]! },
      ],
      { learningRate: 0.1 },
    );
    restored.setState(state);
    const both = (a: tf.Variable, b: tf.Variable) => ({ [a.name]: gradient, [b.name]: gradient });
    optimizer.applyGradients(both(trained, head));
    restored.applyGradients(both(twin[0]!, twin[1]!));
    expect(Array.from(twin[0]!.dataSync())).toEqual(Array.from(trained.dataSync()));
    expect(Array.from(twin[1]!.dataSync())).toEqual(Array.from(head.dataSync()));
    expect(restored.getState().steps).toEqual(
      new Map([
        ["trained", 101],
        ["head", 11],
      ]),
    );
    expect(() => restored.setState({ ...state, steps: new Map([["head", 111]]) })).toThrow(
      /invalid step 111/,
    );
    tf.dispose([gradient, trained, head, alone, ...twin]);
    fresh.dispose();
    optimizer.dispose();
    restored.dispose();
  });
});
