import * as tf from "@tensorflow/tfjs";
import {
  address,
  defineSimdKernel,
  defineSimdKernelsOnce,
  runSimdKernel,
  simdKernelsActive,
} from "./simd-kernels.js";

/** Registers `OrbiterRepeatRows` (once): copies of rows, optionally into longer zero-padded slices. */
const register = defineSimdKernelsOnce(() => {
  defineSimdKernel("OrbiterRepeatRows", (backend, simd, [x], attrs) => {
    const times = attrs.times as number;
    if (attrs.capacity === undefined) {
      const [rows, ...rest] = x!.shape;
      const out = backend.makeOutput([(rows as number) * times, ...rest], "float32");
      const rowBytes = rest.reduce((a, b) => a * b, 1) * 4;
      simd.repeatRows(
        address(backend, x!),
        address(backend, out),
        rows as number,
        1,
        rowBytes,
        times,
        rowBytes,
      );
      return [out];
    }
    const [rows, heads, length, width] = x!.shape as [number, number, number, number];
    const capacity = attrs.capacity as number;
    const out = backend.makeOutput([rows * times, heads, capacity, width], "float32");
    const [sliceBytes, targetBytes] = [length * width * 4, capacity * width * 4];
    simd.repeatRows(address(backend, x!), address(backend, out), rows, heads, sliceBytes, times, targetBytes);
    return [out];
  });
});

/**
 * Each row (first-axis slice) of `x` repeated `times` times in a row, `[P, ...]` → `[P·times, ...]`: one copy per
 * row on wasm (its gather and tile cost ~40 ns per element), a tile elsewhere. No gradient.
 */
export function repeatRows<T extends tf.Tensor>(x: T, times: number): T {
  if (simdKernelsActive() && x.dtype === "float32" && x.rank >= 1 && x.size > 0) {
    register();
    return runSimdKernel("OrbiterRepeatRows", { x }, { times }) as T;
  }
  const [rows, ...rest] = x.shape;
  const width = rest.reduce((a, b) => a * b, 1);
  const tiled = tf.tile(tf.reshape(x, [rows as number, 1, width]), [1, times, 1]);
  return tf.reshape(tiled, [(rows as number) * times, ...rest]) as T;
}

/**
 * `x [P, H, L, hs]` → `[P·times, H, capacity, hs]`: each row repeated `times` times and axis 2 zero-padded to
 * `capacity` (a KV cache with room to grow), in one pass of copies on wasm instead of a repeat and a pad.
 */
export function repeatRowsPadded(x: tf.Tensor4D, times: number, capacity: number): tf.Tensor4D {
  if (simdKernelsActive() && x.dtype === "float32" && x.size > 0 && capacity >= x.shape[2]) {
    register();
    return runSimdKernel("OrbiterRepeatRows", { x }, { times, capacity }) as tf.Tensor4D;
  }
  const repeated = times > 1 ? repeatRows(x, times) : x;
  return tf.pad(repeated, [
    [0, 0],
    [0, 0],
    [0, capacity - x.shape[2]],
    [0, 0],
  ]);
}
