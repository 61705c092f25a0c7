import type * as tf from "@tensorflow/tfjs";
import { embeddingLookup } from "./embedding-lookup.js";

/**
 * The rows of `rows [N, d]` at `ids [M]` (int32) → `[M, d]`, differentiable in `rows`: a row read several times
 * gets the sum of its copies' gradients, one read nowhere gets zero. It is the embedding lookup with the rows as
 * the table (on wasm one SIMD copy each way, `embedding-kernels.ts`); the name says what it does here.
 */
export function gatherRows(rows: tf.Tensor, ids: tf.Tensor1D): tf.Tensor {
  return embeddingLookup(rows, ids);
}
