import * as tf from "@tensorflow/tfjs";
import {
  address,
  defineSimdKernel,
  defineSimdKernelsOnce,
  memoryBuffer,
  runSimdKernel,
  simdKernelsActive,
} from "./simd-kernels.js";

/**
 * Registers `OrbiterKeepRows` (once): positions `start .. start + count − 1` of every sequence, copied within the
 * backend's memory (tfjs's wasm `Slice` first copies its whole input out to JavaScript), and its gradient.
 */
const register = defineSimdKernelsOnce(() => {
  defineSimdKernel("OrbiterKeepRows", (backend, _simd, [x], attrs) => {
    const [batch, length, start, count] = [attrs.batch, attrs.length, attrs.start, attrs.count] as number[];
    const d = x!.shape[1] as number;
    const out = backend.makeOutput([batch! * count!, d], "float32");
    const heap = new Float32Array(memoryBuffer(backend));
    const from = address(backend, x!) / 4;
    const to = address(backend, out) / 4;
    const [span, stride] = [count! * d, length! * d];
    for (let b = 0; b < batch!; b++) {
      const source = from + b * stride + start! * d;
      heap.copyWithin(to + b * span, source, source + span);
    }
    return [out];
  });
  tf.registerGradient({
    kernelName: "OrbiterKeepRows",
    gradFunc: (dy, _saved, attrs) => {
      const { batch, length, start, count } = attrs as unknown as Record<string, number>;
      const g = dy as tf.Tensor;
      const d = g.shape[1] as number;
      return {
        x: () =>
          tf.reshape(
            tf.pad(tf.reshape(g, [batch!, count!, d]), [
              [0, 0],
              [start!, length! - start! - count!],
              [0, 0],
            ]),
            [batch! * length!, d],
          ),
      };
    },
  });
});

/**
 * The rows at positions `start .. start + count − 1` of each of `batch` sequences of `length` positions:
 * `rows [batch·length, d]` → `[batch·count, d]`, differentiable (the gradient pads zeros back). On wasm one copy
 * per sequence inside the backend's memory; elsewhere a slice.
 */
export function keepRows(
  rows: tf.Tensor,
  batch: number,
  length: number,
  start: number,
  count: number,
): tf.Tensor {
  const d = rows.shape[1] as number;
  if (simdKernelsActive() && rows.dtype === "float32" && rows.rank === 2 && rows.size > 0) {
    register();
    return runSimdKernel("OrbiterKeepRows", { x: rows }, { batch, length, start, count }) as tf.Tensor;
  }
  const slice = tf.slice(tf.reshape(rows, [batch, length, d]), [0, start, 0], [batch, count, d]);
  return tf.reshape(slice, [batch * count, d]);
}
