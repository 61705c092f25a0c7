import type * as tf from "@tensorflow/tfjs";
import { address, defineSimdKernel, defineSimdKernelsOnce, runSimdKernel } from "./simd-kernels.js";

/**
 * Registers `OrbiterEmbedding` (rows of a table at int32 ids, copied inside the backend's memory; an id outside
 * the table gives a row of zeros, as a one-hot product does) and `OrbiterEmbeddingGrad` (the rows of `dy` added
 * into a zeroed `[rows, d]` at their ids, in row order: the sums a one-hot product's weight gradient makes).
 */
const register = defineSimdKernelsOnce(() => {
  defineSimdKernel("OrbiterEmbedding", (backend, simd, [table, ids]) => {
    const [rows, d] = table!.shape as [number, number];
    const n = ids!.shape.reduce((a, b) => a * b, 1);
    const out = backend.makeOutput([n, d], "float32");
    simd.gatherRows(address(backend, table!), address(backend, ids!), address(backend, out), n, rows, d * 4);
    return [out];
  });
  defineSimdKernel("OrbiterEmbeddingGrad", (backend, simd, [ids, dy], attrs) => {
    const rows = attrs.rows as number;
    const [n, d] = dy!.shape as [number, number];
    const out = backend.makeOutput([rows, d], "float32");
    simd.scatterAddRows(address(backend, ids!), address(backend, dy!), address(backend, out), n, rows, d * 4);
    return [out];
  });
});

/** Whether the embedding kernels take `table [V, d]` (float32, d a multiple of 4) and `ids` (int32, at least one). */
export function fitsEmbedding(table: tf.Tensor, ids: tf.Tensor): boolean {
  return (
    table.rank === 2 &&
    table.dtype === "float32" &&
    table.size > 0 &&
    table.shape[1]! % 4 === 0 &&
    ids.dtype === "int32" &&
    ids.size > 0
  );
}

/** Rows of `table [V, d]` at `ids [N]` → `[N, d]`; zeros for ids outside the table. Check {@link fitsEmbedding}. */
export function wasmEmbedding(table: tf.Tensor, ids: tf.Tensor): tf.Tensor {
  register();
  return runSimdKernel("OrbiterEmbedding", { table, ids }) as tf.Tensor;
}

/** The gradient of {@link wasmEmbedding} for its table: `[rows, d]`, each id's rows of `dy [N, d]` summed in order. */
export function wasmEmbeddingGrad(ids: tf.Tensor, dy: tf.Tensor, rows: number): tf.Tensor {
  register();
  return runSimdKernel("OrbiterEmbeddingGrad", { ids, dy }, { rows }) as tf.Tensor;
}
