import { SeededRandom } from "@orbiter/types";
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { backendsForTests } from "../internal/testing/test-backends.js";
import { initBackend } from "./init-backend.js";

function random(shape: number[], seed: number): { shape: number[]; data: Float32Array } {
  const rng = new SeededRandom(seed);
  return { shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()) };
}

const indices = Int32Array.from([2, 0, 2, 1, 3, 3]);
const cases: Array<{
  name: string;
  inputs: Array<{ shape: number[]; data: Float32Array }>;
  f: (...xs: tf.Tensor[]) => tf.Tensor;
}> = [
  { name: "matMul", inputs: [random([5, 4], 1), random([4, 3], 2)], f: (a, b) => tf.matMul(a!, b!) },
  {
    name: "matMul transposeA",
    inputs: [random([4, 5], 3), random([4, 3], 4)],
    f: (a, b) => tf.matMul(a!, b!, true, false),
  },
  {
    name: "matMul transposeB",
    inputs: [random([2, 5, 4], 5), random([2, 3, 4], 6)],
    f: (a, b) => tf.matMul(a!, b!, false, true),
  },
  {
    name: "matMul both",
    inputs: [random([4, 5], 7), random([3, 4], 8)],
    f: (a, b) => tf.matMul(a!, b!, true, true),
  },
  {
    name: "gather axis 0",
    inputs: [random([4, 3], 9)],
    f: (x) => tf.gather(x!, tf.tensor1d(indices, "int32")),
  },
  {
    name: "gather axis 1, 2-D indices",
    inputs: [random([2, 4, 3], 10)],
    f: (x) => tf.gather(x!, tf.tensor2d(indices, [2, 3], "int32"), 1),
  },
];

/** Gradient of sum(f(x) · w) with respect to every input, as host arrays. */
function gradients(
  inputs: Array<{ shape: number[]; data: Float32Array }>,
  f: (...xs: tf.Tensor[]) => tf.Tensor,
): number[][] {
  return tf.tidy(() => {
    const xs = inputs.map(({ shape, data }) => tf.tensor(data, shape));
    const probe = (...args: tf.Tensor[]) => {
      const out = f(...args);
      return tf.sum(tf.mul(out, tf.tensor(random(out.shape, 42).data, out.shape))) as tf.Scalar;
    };
    return tf
      .grads(probe)(xs)
      .map((g) => Array.from(g.dataSync()));
  });
}

// The backends present (found through init-backend, which also keeps the cpu backend's first-use banner quiet),
// then references from tfjs's built-in gradients on the cpu backend, before ours are registered.
const backends = await backendsForTests();
await tf.setBackend("cpu");
const references = new Map(cases.map(({ name, inputs, f }) => [name, gradients(inputs, f)]));

describe.each(backends)("registered gradients on %s match tfjs's built-in ones on cpu", (backend) => {
  it.each(cases)("$name", async ({ name, inputs, f }) => {
    await initBackend({ backend });
    const before = tf.memory().numTensors;
    const actual = gradients(inputs, f);
    expect(tf.memory().numTensors).toBe(before);
    const expected = references.get(name)!;
    actual.forEach((grad, i) => {
      grad.forEach((value, j) => {
        expect(Math.abs(value - expected[i]![j]!)).toBeLessThan(1e-4);
      });
    });
  });
});
