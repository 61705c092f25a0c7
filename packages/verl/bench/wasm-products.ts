// What the two product benchmarks (`kernels` in kernel-workload.ts and bench/tile-rows.ts) share: the update's
// product shapes, where their operands sit in a memory of their own, a CPU-time clock and the WebAssembly API.

/** The products of one update of the reference workload: 64 × 48 rows against each weight (n, k, m). */
export const UPDATE_PRODUCT_SHAPES: ReadonlyArray<readonly [number, number, number]> = [
  [3072, 128, 384],
  [3072, 128, 128],
  [3072, 128, 512],
  [3072, 512, 128],
  [3072, 128, 64],
];
/** Byte offsets of the second operand and the output (the first operand starts at 0): inputs are never overwritten. */
export const SECOND = 8 << 20;
export const OUT = 16 << 20;

/**
 * The largest difference between the first `rows` rows of a product `out [n, m] = a [n, k] @ b [k, m]` already
 * computed into `floats` (operands at 0 and {@link SECOND}, output at {@link OUT}) and the same dot products in
 * doubles.
 */
export function maxProductError(floats: Float32Array, rows: number, k: number, m: number): number {
  let worst = 0;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < m; c++) {
      let dot = 0;
      for (let t = 0; t < k; t++) dot += floats[r * k + t]! * floats[SECOND / 4 + t * m + c]!;
      worst = Math.max(worst, Math.abs(floats[OUT / 4 + r * m + c]! - dot));
    }
  }
  return worst;
}

/** CPU milliseconds of `run` (user + system). */
export function cpuMs(run: () => void): number {
  const start = process.cpuUsage();
  run();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

/** The part of WebAssembly the product benchmarks use (the package's ES2023 libs do not declare it). */
export interface BenchWasmRuntime {
  Memory: new (descriptor: { initial: number }) => { buffer: ArrayBuffer };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}

/** The runtime's WebAssembly, typed as {@link BenchWasmRuntime}. */
export function benchWasm(): BenchWasmRuntime {
  return (globalThis as unknown as { WebAssembly: BenchWasmRuntime }).WebAssembly;
}
