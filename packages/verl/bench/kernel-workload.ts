import {
  type BackendName,
  type SimdExports,
  simdKernelFunctions,
  wasmFmaActive,
  wasmModule,
} from "./imports.js";
import { benchWasm, cpuMs, maxProductError, OUT, SECOND, UPDATE_PRODUCT_SHAPES } from "./wasm-products.js";
import { type Measurement, median, round, type Workload } from "./workload.js";

const REPEATS = 5;
/** Byte offset of the bias sums, after the output. */
const BIAS = 24 << 20;

/** The two product kernels the workload times, as the package declares them. */
type ProductKernels = Pick<SimdExports, "matmul" | "weightGrad">;

/**
 * `kernels` (wasm only): GFLOP/s of the matmul and weight-gradient kernels over the products of one update
 * (the shapes above, each timed {@link REPEATS} times after a warm-up; medians of the total CPU time), with the
 * kernels generated for the fused-multiply-add setting in force. Runs on a memory of its own.
 */
export const kernelWorkload: Workload = {
  name: "kernels",
  async run(backend: BackendName): Promise<Measurement[]> {
    if (backend !== "wasm") return [];
    const wasm = benchWasm();
    const memory = new wasm.Memory({ initial: 512 });
    const bytes = wasmModule(simdKernelFunctions({ fma: wasmFmaActive() }));
    const kernels = new wasm.Instance(new wasm.Module(bytes), { env: { memory } })
      .exports as unknown as ProductKernels;
    const floats = new Float32Array(memory.buffer);
    for (let i = 0; i < floats.length; i++) floats[i] = Math.sin(i) * 0.1;
    const flops = UPDATE_PRODUCT_SHAPES.reduce((sum, [n, k, m]) => sum + 2 * n * k * m, 0);
    const pass = (kernel: "matmul" | "weightGrad") =>
      cpuMs(() => {
        for (const [n, k, m] of UPDATE_PRODUCT_SHAPES) {
          if (kernel === "matmul") kernels.matmul(0, SECOND, 0, OUT, n, k, m, 0);
          else kernels.weightGrad(0, SECOND, OUT, BIAS, n, k, m);
        }
      });
    pass("matmul");
    pass("weightGrad");
    const matmul = Array.from({ length: REPEATS }, () => pass("matmul"));
    const weightGrad = Array.from({ length: REPEATS }, () => pass("weightGrad"));
    const gflops = (ms: number) => round(flops / 1e6 / ms);
    // A check of the last product run: the first row of a [n, k] @ [k, m] against a dot product in doubles.
    const [n, k, m] = UPDATE_PRODUCT_SHAPES[UPDATE_PRODUCT_SHAPES.length - 1]!;
    kernels.matmul(0, SECOND, 0, OUT, n, k, m, 0);
    const worst = maxProductError(floats, 1, k, m);
    return [
      {
        workload: "kernels",
        backend,
        matmul_gflops: gflops(median(matmul)),
        weight_grad_gflops: gflops(median(weightGrad)),
        update_products_gflop: round(flops / 1e9),
        max_abs_error: worst,
        timed_runs: REPEATS,
        pass: worst < 1e-4,
      },
    ];
  },
};
