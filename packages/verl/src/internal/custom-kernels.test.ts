import { SeededRandom } from "@orbiter/types";
import * as tf from "@tensorflow/tfjs";
import { afterAll, describe, expect, it } from "vitest";
import { type BackendName, initBackend } from "../backend/init-backend.js";
import { causalBias, NEG_INF, sequenceAttention } from "../model/attention.js";
import type { AttentionBias } from "./attention-kernels.js";
import { batchMatMul } from "./batch-matmul.js";
import { embeddingLookup } from "./embedding-lookup.js";
import { fastExp } from "./fast-exp.js";
import { dense, denseResidual, matMul } from "./fast-matmul.js";
import { columnSum, transpose2d } from "./fast-transpose.js";
import { gelu } from "./gelu.js";
import { layerNorm, layerNormInference } from "./layer-norm.js";
import { logSoftmaxRows } from "./log-softmax.js";
import { repeatRows, repeatRowsPadded } from "./repeat-rows.js";
import { simdKernelsActive } from "./simd-kernels.js";
import { backendsForTests } from "./testing/test-backends.js";
import { setWasmFma, type WasmFmaMode } from "./wasm-fma.js";

const backends = await backendsForTests();
/** The wasm kernels run with separate multiply and add, and fused where relaxed SIMD can be had. */
const fusedToo = setWasmFma("on");
setWasmFma("off");
const settings = backends.flatMap(
  (backend): Array<[BackendName, WasmFmaMode]> =>
    backend === "wasm" && fusedToo
      ? [
          [backend, "off"],
          [backend, "on"],
        ]
      : [[backend, "off"]],
);

interface HostArray {
  shape: number[];
  data: Float32Array;
}

function random(shape: number[], seed: number): HostArray {
  const rng = new SeededRandom(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  return { shape, data: Float32Array.from({ length: size }, () => rng.normal(0, 1)) };
}

/** Runs `f` on fresh tensors of `inputs` and returns the value and the gradient of sum(value · w). */
function valueAndGrads(
  inputs: HostArray[],
  f: (...xs: tf.Tensor[]) => tf.Tensor,
): { value: Float32Array; grads: Float32Array[] } {
  return tf.tidy(() => {
    const xs = inputs.map(({ shape, data }) => tf.tensor(data, shape));
    const probe = (...args: tf.Tensor[]) => {
      const out = f(...args);
      const weights = tf.tensor(random(out.shape, 99).data, out.shape);
      return tf.sum(tf.mul(out, weights)) as tf.Scalar;
    };
    const grads = tf.grads(probe)(xs);
    const value = f(...xs);
    return {
      value: new Float32Array(value.dataSync() as Float32Array),
      grads: grads.map((g) => new Float32Array(g.dataSync() as Float32Array)),
    };
  }) as unknown as { value: Float32Array; grads: Float32Array[] };
}

function expectClose(actual: Float32Array, expected: Float32Array, tolerance: number): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    const scale = Math.max(1, Math.abs(expected[i]!));
    worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!) / scale);
  }
  expect(worst).toBeLessThan(tolerance);
}

const sqrtTwoOverPi = Math.sqrt(2 / Math.PI);
const ids = Int32Array.from([3, 0, 5, 3, 1, 4, 4, 2]);

/** Each custom kernel and the plain tfjs formula it replaces (the reference, run on the cpu backend). */
const cases: Array<{
  name: string;
  inputs: HostArray[];
  custom: (...xs: tf.Tensor[]) => tf.Tensor;
  reference: (...xs: tf.Tensor[]) => tf.Tensor;
}> = [
  {
    name: "matMul 2-D",
    inputs: [random([7, 5], 1), random([5, 6], 2)],
    custom: (a, b) => matMul(a!, b!),
    reference: (a, b) => tf.matMul(a!, b!),
  },
  {
    name: "matMul batched 4-D",
    inputs: [random([2, 3, 4, 5], 3), random([2, 3, 5, 4], 4)],
    custom: (a, b) => matMul(a!, b!),
    reference: (a, b) => tf.matMul(a!, b!),
  },
  {
    name: "batchMatMul (depthwise-convolution form on wasm)",
    inputs: [random([6, 5, 4], 15), random([6, 4, 3], 16)],
    custom: (a, b) => batchMatMul(a!, b!),
    reference: (a, b) => tf.matMul(a!, b!),
  },
  {
    name: "dense",
    inputs: [random([300, 64], 5), random([64, 48], 6), random([48], 7)],
    custom: (x, w, b) => dense(x!, w!, b!),
    reference: (x, w, b) => tf.add(tf.matMul(x!, w!), b!),
  },
  {
    name: "denseResidual (the residual added in the SIMD product on wasm)",
    inputs: [random([36, 16], 32), random([16, 24], 33), random([24], 34), random([36, 24], 35)],
    custom: (x, w, b, r) => denseResidual(x!, w!, b!, r!),
    reference: (x, w, b, r) => tf.add(r!, tf.add(tf.matMul(x!, w!), b!)),
  },
  {
    name: "dense, SIMD weight gradient over several row blocks",
    inputs: [random([300, 16], 17), random([16, 24], 18), random([24], 19)],
    custom: (x, w, b) => dense(x!, w!, b!),
    reference: (x, w, b) => tf.add(tf.matMul(x!, w!), b!),
  },
  {
    name: "embeddingLookup, a vocabulary of 8 (SIMD gradient on wasm)",
    inputs: [random([8, 8], 20)],
    custom: (table) => embeddingLookup(table!, tf.tensor1d(ids, "int32")),
    reference: (table) => tf.gather(table!, tf.tensor1d(ids, "int32")),
  },
  {
    name: "gelu at large magnitudes (the exp range reduction's clamp)",
    inputs: [{ shape: [4, 6], data: Float32Array.from({ length: 24 }, (_, i) => (i - 12) * 4.5) }],
    custom: (x) => gelu(x!),
    reference: (x) =>
      tf.mul(
        tf.mul(x!, 0.5),
        tf.add(1, tf.tanh(tf.mul(tf.add(x!, tf.mul(tf.pow(x!, 3), 0.044715)), sqrtTwoOverPi))),
      ),
  },
  {
    name: "fastExp (SIMD exp on wasm), arguments from −12 to 12",
    inputs: [{ shape: [6, 8], data: Float32Array.from({ length: 48 }, (_, i) => (i - 24) / 2) }],
    custom: (x) => fastExp(x!),
    reference: (x) => tf.exp(x!),
  },
  {
    name: "logSoftmaxRows",
    inputs: [random([5, 16], 31)],
    custom: (x) => logSoftmaxRows(tf.mul(x!, 3)),
    reference: (x) => tf.logSoftmax(tf.mul(x!, 3)),
  },
  {
    name: "columnSum, SIMD width",
    inputs: [random([33, 8], 21)],
    custom: (x) => columnSum(x!),
    reference: (x) => tf.sum(x!, 0),
  },
  {
    name: "embeddingLookup",
    inputs: [random([6, 4], 8)],
    custom: (table) => embeddingLookup(table!, tf.tensor1d(ids, "int32")),
    reference: (table) => tf.gather(table!, tf.tensor1d(ids, "int32")),
  },
  {
    name: "layerNorm",
    inputs: [random([9, 16], 9), random([16], 10), random([16], 11)],
    custom: (x, g, b) => layerNorm(x!, g!, b!, 1e-5),
    reference: (x, g, b) => {
      const { mean, variance } = tf.moments(x!, 1, true);
      return tf.add(tf.mul(tf.div(tf.sub(x!, mean), tf.sqrt(tf.add(variance, 1e-5))), g!), b!);
    },
  },
  {
    name: "layerNormInference (no gradient wrapper), 130 rows",
    inputs: [random([130, 12], 22), random([12], 23), random([12], 24)],
    custom: (x, g, b) => layerNormInference(x!, g!, b!, 1e-5),
    reference: (x, g, b) => {
      const { mean, variance } = tf.moments(x!, 1, true);
      return tf.add(tf.mul(tf.div(tf.sub(x!, mean), tf.sqrt(tf.add(variance, 1e-5))), g!), b!);
    },
  },
  {
    name: "gelu",
    inputs: [random([5, 40], 12)],
    custom: (x) => gelu(x!),
    reference: (x) =>
      tf.mul(
        tf.mul(x!, 0.5),
        tf.add(1, tf.tanh(tf.mul(tf.add(x!, tf.mul(tf.pow(x!, 3), 0.044715)), sqrtTwoOverPi))),
      ),
  },
  {
    name: "transpose2d",
    inputs: [random([512, 64], 13)],
    custom: (x) => transpose2d(x!),
    reference: (x) => tf.transpose(x!),
  },
  {
    name: "columnSum",
    inputs: [random([33, 7], 14)],
    custom: (x) => columnSum(x!),
    reference: (x) => tf.sum(x!, 0),
  },
];

/** Causal attention bias `[3, 1, 16, 16]` with the first 0, 3 and 5 keys of the three sequences padded. */
const pads = [0, 3, 5];
function paddedBias(): tf.Tensor {
  const mask = tf.tensor2d(pads.map((pad) => Array.from({ length: 16 }, (_, j) => (j < pad ? NEG_INF : 0))));
  return tf.add(causalBias(16), tf.reshape(mask, [3, 1, 1, 16]));
}

/**
 * The context rows `[48, 16]` times 0 on the padded positions: their queries have every key masked, a softmax
 * over nothing, whose output no later position reads (the kernel stops at the causal bound, the plain ops spread
 * it over every key); value and gradients are compared on the other rows.
 */
function paddedRowsZeroed(context: tf.Tensor): tf.Tensor {
  const keep = pads.flatMap((pad) => Array.from({ length: 16 }, (_, i) => (i < pad ? 0 : 1)));
  return tf.mul(context, tf.tensor2d(keep, [48, 1]));
}

/** `values` declared causal, as the transformer declares its bias. */
function causal(values: tf.Tensor): AttentionBias {
  return { values, causal: true };
}

/** A bidirectional bias `[3, 1, 16, 16]`, not causal: only the first 0, 3 and 5 keys of each sequence are masked. */
function bidirectional(): AttentionBias {
  const mask = tf.tensor2d(pads.map((pad) => Array.from({ length: 16 }, (_, j) => (j < pad ? NEG_INF : 0))));
  return { values: tf.add(tf.zeros([1, 1, 16, 16]), tf.reshape(mask, [3, 1, 1, 16])), causal: false };
}

const attentionShape = { batch: 3, length: 16, heads: 2 };
cases.push(
  {
    name: "sequenceAttention, bidirectional with padded keys (not causal: every query sees every real key)",
    inputs: [random([48, 16], 31), random([48, 16], 32), random([48, 16], 33)],
    custom: (q, k, v) => sequenceAttention(q!, k!, v!, attentionShape, bidirectional(), null),
    reference: (q, k, v) => sequenceAttention(q!, k!, v!, attentionShape, bidirectional(), null),
  },
  {
    name: "sequenceAttention, causal (fused SIMD kernels on wasm)",
    inputs: [random([48, 16], 25), random([48, 16], 26), random([48, 16], 27)],
    custom: (q, k, v) => sequenceAttention(q!, k!, v!, attentionShape, causal(causalBias(16)), null),
    reference: (q, k, v) => sequenceAttention(q!, k!, v!, attentionShape, causal(causalBias(16)), null),
  },
  {
    name: "sequenceAttention, causal + padded keys per sequence (on the rows with a key)",
    inputs: [random([48, 16], 28), random([48, 16], 29), random([48, 16], 30)],
    custom: (q, k, v) =>
      paddedRowsZeroed(sequenceAttention(q!, k!, v!, attentionShape, causal(paddedBias()), null)),
    reference: (q, k, v) =>
      paddedRowsZeroed(sequenceAttention(q!, k!, v!, attentionShape, causal(paddedBias()), null)),
  },
);

const references = new Map<string, { value: Float32Array; grads: Float32Array[] }>();

describe.each(settings)(
  "custom kernels on %s (fused multiply-adds %s) match the cpu backend's plain ops",
  (backend, fma) => {
    afterAll(async () => {
      setWasmFma("off");
      await initBackend({ backend });
    });

    it.each(cases)("$name: value and gradients", async ({ name, inputs, custom, reference }) => {
      if (!references.has(name)) {
        await initBackend({ backend: "cpu" });
        references.set(name, valueAndGrads(inputs, reference));
      }
      await initBackend({ backend });
      setWasmFma(fma);
      const before = tf.memory().numTensors;
      const actual = valueAndGrads(inputs, custom);
      expect(tf.memory().numTensors).toBe(before);
      const expected = references.get(name)!;
      expectClose(actual.value, expected.value, 1e-4);
      expect(actual.grads.length).toBe(expected.grads.length);
      actual.grads.forEach((grad, i) => {
        expectClose(grad, expected.grads[i]!, 1e-4);
      });
    });
  },
);

describe.each(backends)("repeatRows on %s", (backend) => {
  it("repeats each first-axis slice in a row, like gather with repeated indices", async () => {
    await initBackend({ backend });
    const before = tf.memory().numTensors;
    const [actual, expected] = tf.tidy(() => {
      const x = tf.tensor(random([3, 2, 5], 31).data, [3, 2, 5]);
      const index = tf.tensor1d([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2], "int32");
      return [repeatRows(x, 4), tf.gather(x, index)].map((t) => ({ shape: t.shape, data: t.dataSync() }));
    });
    expect(actual!.shape).toEqual([12, 2, 5]);
    expect(Array.from(actual!.data)).toEqual(Array.from(expected!.data));
    expect(tf.memory().numTensors).toBe(before);
  });

  it("repeats and zero-pads a KV cache [P, H, L, hs] to [P·n, H, T, hs], like gather then pad", async () => {
    await initBackend({ backend });
    const before = tf.memory().numTensors;
    const pad: Array<[number, number]> = [
      [0, 0],
      [0, 0],
      [0, 4],
      [0, 0],
    ];
    const cases = tf.tidy(() => {
      const x = tf.tensor4d(random([2, 3, 5, 4], 32).data, [2, 3, 5, 4]);
      // Memory just freed by other tensors holds non-zero floats: the padding must be written, not assumed.
      tf.dispose(tf.fill([2 * 3 * 3 * 9 * 4], 7));
      const three = tf.gather(x, tf.tensor1d([0, 0, 0, 1, 1, 1], "int32"));
      return [
        [repeatRowsPadded(x, 3, 9), tf.pad(three, pad)],
        [repeatRowsPadded(x, 1, 9), tf.pad(x, pad)],
        [repeatRowsPadded(x, 2, 5), tf.gather(x, tf.tensor1d([0, 0, 1, 1], "int32"))],
      ].map((pair) => pair.map((t) => ({ shape: t.shape, data: Array.from(t.dataSync()) })));
    });
    expect(cases[0]![0]!.shape).toEqual([6, 3, 9, 4]);
    for (const [actual, expected] of cases) expect(actual).toEqual(expected);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe.each(backends)("the SIMD kernels on %s", (backend) => {
  it("are active on wasm only (other backends take the plain tfjs path)", async () => {
    await initBackend({ backend });
    expect(simdKernelsActive()).toBe(backend === "wasm");
  });
});
