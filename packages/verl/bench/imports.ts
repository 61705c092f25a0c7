// The benchmark's single entry into the package sources and shared types: the public API, plus the trainer's
// step pieces it times one by one (not part of the public surface).
export { SeededRandom } from "@orbiter/types";
export * from "../src/index.js";
export { Locals } from "../src/internal/simd-code-helpers.js";
export type { SimdExports } from "../src/internal/simd-exports.js";
export { simdKernelFunctions } from "../src/internal/simd-kernel-code.js";
export { I32, V128, WasmCode, type WasmFunction } from "../src/internal/wasm-code.js";
export { wasmModule } from "../src/internal/wasm-module.js";
export { DataParallelGroup } from "../src/parallel/data-parallel-group.js";
export { runPolicyUpdate } from "../src/trainer/policy-update.js";
export { buildRolloutBatch } from "../src/trainer/rollout-batch.js";
