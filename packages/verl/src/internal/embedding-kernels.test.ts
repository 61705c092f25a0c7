import { SeededRandom } from "@orbiter/types";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../backend/init-backend.js";
import { embeddingLookup } from "./embedding-lookup.js";
import { simdKernelsActive } from "./simd-kernels.js";
import { backendsForTests } from "./testing/test-backends.js";

const backends = await backendsForTests();
const [rows, d] = [10, 8];
const rng = new SeededRandom(4);
const table = Float32Array.from({ length: rows * d }, () => rng.normal(0, 1));
// Repeated ids, and two outside the table (a one-hot product gives them rows of zeros and no gradient).
const ids = [3, 0, 9, 3, -1, 10, 3, 5];
const dy = Float32Array.from({ length: ids.length * d }, () => rng.normal(0, 1));

describe.each(backends)("embeddingLookup on %s", (backend) => {
  beforeAll(async () => {
    await initBackend({ backend });
  });

  it("copies the rows at the ids exactly and adds the gradient at them in row order", () => {
    const weights = tf.tensor2d(table, [rows, d]);
    const idTensor = tf.tensor1d(ids, "int32");
    const upstream = tf.tensor2d(dy, [ids.length, d]);
    const looked = embeddingLookup(weights, idTensor);
    const gradient = tf.grad((w: tf.Tensor) => tf.sum(tf.mul(embeddingLookup(w, idTensor), upstream)))(
      weights,
    );
    const out = looked.dataSync();
    const grad = gradient.dataSync();
    const expected = new Float32Array(rows * d);
    ids.forEach((id, i) => {
      const inside = id >= 0 && id < rows;
      for (let j = 0; j < d; j++) {
        expect(out[i * d + j]).toBe(inside ? table[id * d + j] : 0);
        if (inside) expected[id * d + j] = Math.fround(expected[id * d + j]! + dy[i * d + j]!);
      }
    });
    // Bit-identical on wasm (the copying kernels add in row order); elsewhere a product's order of summation.
    if (backend === "wasm") {
      expect(simdKernelsActive()).toBe(true);
      expect(Array.from(grad)).toEqual(Array.from(expected));
    } else {
      grad.forEach((value, i) => {
        expect(value).toBeCloseTo(expected[i]!, 5);
      });
    }
    // Row 3 took three rows of dy; rows never looked up stay 0.
    expect(grad[3 * d]).not.toBe(0);
    expect(Array.from(grad.subarray(d, 2 * d))).toEqual(new Array(d).fill(0));
    tf.dispose([weights, idTensor, upstream, looked, gradient]);
  });

  it("runs the copying kernels on wasm and the one-hot product elsewhere (the sums alone cannot tell)", async () => {
    const weights = tf.tensor2d(table, [rows, d]);
    const idTensor = tf.tensor1d(ids, "int32");
    const profile = await tf.profile(() =>
      tf.grad((w: tf.Tensor) => tf.sum(embeddingLookup(w, idTensor)))(weights),
    );
    const copied = profile.kernelNames.filter((name) => name.startsWith("OrbiterEmbedding")).sort();
    expect(copied).toEqual(backend === "wasm" ? ["OrbiterEmbedding", "OrbiterEmbeddingGrad"] : []);
    expect(profile.kernelNames.includes("OneHot")).toBe(backend !== "wasm");
    tf.dispose([weights, idTensor, profile.result as tf.Tensor]);
  });
});
