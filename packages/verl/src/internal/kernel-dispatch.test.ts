import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { initBackend } from "../backend/init-backend.js";
import { causalBias, sequenceAttention } from "../model/attention.js";
import { fastExp } from "./fast-exp.js";
import { denseResidual } from "./fast-matmul.js";
import { keepRows } from "./keep-rows.js";
import { logSoftmaxRows } from "./log-softmax.js";
import { backendsForTests } from "./testing/test-backends.js";

const backends = await backendsForTests();

/** The kernels that `run` (forward and gradient for its first input) dispatches on the current backend. */
async function kernelsOf(run: (x: tf.Tensor) => tf.Tensor, x: tf.Tensor): Promise<string[]> {
  const profile = await tf.profile(() => tf.grad((input: tf.Tensor) => tf.sum(run(input)))(x));
  tf.dispose(profile.result as tf.Tensor);
  return profile.kernelNames;
}

/*
 * The value tests compare these ops with tfjs's plain ones, which give the same numbers: only the kernels run tell
 * whether the wasm path is taken at all, and whether the other backends keep their plain ops.
 */
describe.each(backends)("the speed paths on %s", (backend) => {
  const onWasm = backend === "wasm";

  it("keepRows copies in the wasm memory (OrbiterKeepRows), elsewhere slices", async () => {
    await initBackend({ backend });
    const rows = tf.randomNormal([2 * 6, 8], 0, 1, "float32", 3);
    const kernels = await kernelsOf((x) => keepRows(x, 2, 6, 1, 4), rows);
    expect(kernels.includes("OrbiterKeepRows")).toBe(onWasm);
    expect(kernels.includes("Slice")).toBe(!onWasm);
    rows.dispose();
  });

  it("fastExp and logSoftmaxRows take OrbiterExp on wasm, tfjs's Exp elsewhere", async () => {
    await initBackend({ backend });
    const logits = tf.randomNormal([4, 16], 0, 1, "float32", 4);
    for (const run of [fastExp, logSoftmaxRows]) {
      const kernels = await kernelsOf(run, logits);
      expect(kernels.includes("OrbiterExp")).toBe(onWasm);
      expect(kernels.includes("Exp")).toBe(!onWasm);
    }
    logits.dispose();
  });

  it("denseResidual adds the residual inside the product on wasm (no Add forward)", async () => {
    await initBackend({ backend });
    const [x, w, bias, residual] = [
      tf.randomNormal([8, 16], 0, 1, "float32", 5),
      tf.randomNormal([16, 8], 0, 1, "float32", 6),
      tf.randomNormal([8], 0, 1, "float32", 7),
      tf.randomNormal([8, 8], 0, 1, "float32", 8),
    ];
    const profile = await tf.profile(() => denseResidual(x, w, bias, residual));
    tf.dispose(profile.result as tf.Tensor);
    expect(profile.kernelNames.includes("OrbiterMatMul")).toBe(onWasm);
    expect(profile.kernelNames.includes("Add")).toBe(!onWasm);
    tf.dispose([x, w, bias, residual]);
  });

  it("sequenceAttention fuses (OrbiterAttention) on wasm only for a bias declared causal", async () => {
    await initBackend({ backend });
    const shape = { batch: 2, length: 8, heads: 2 };
    const [q, k, v] = [9, 10, 11].map((seed) => tf.randomNormal([16, 16], 0, 1, "float32", seed));
    const values = causalBias(8);
    const attend = (causal: boolean) => (x: tf.Tensor) =>
      sequenceAttention(x, k as tf.Tensor, v as tf.Tensor, shape, { values, causal }, null);
    // The same causal values, declared or not: only the declaration opens the fused path.
    expect((await kernelsOf(attend(true), q as tf.Tensor)).includes("OrbiterAttention")).toBe(onWasm);
    const general = await kernelsOf(attend(false), q as tf.Tensor);
    expect(general.includes("OrbiterAttention")).toBe(false);
    expect(general.includes("Softmax")).toBe(true);
    tf.dispose([q, k, v, values] as tf.Tensor[]);
  });
});
