import { InvalidStateError } from "@orbiter/types";
import * as tf from "@tensorflow/tfjs";
import type { SimdExports } from "./simd-exports.js";
import { simdKernelFunctions } from "./simd-kernel-code.js";
import { wasmFmaActive } from "./wasm-fma.js";
import { wasmModule } from "./wasm-module.js";

/** The part of the runtime's `WebAssembly` object used here (the package's TS libs do not declare it). */
interface WasmRuntime {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}

const wasmRuntime = (globalThis as unknown as { WebAssembly: WasmRuntime }).WebAssembly;

/** What the kernels use of tfjs's wasm backend (`memory` is its `WebAssembly.Memory`). */
export interface WasmBackendView {
  wasm?: { asm?: { memory?: object } };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: "float32"): tf.TensorInfo;
  disposeData(dataId: object): boolean;
}

/** The module compiled once per variant (index 1: fused multiply-adds); null when the runtime lacks SIMD. */
const compiled: Array<object | null | undefined> = [undefined, undefined];
/** Per variant, the module instantiated on each backend memory (null when that failed). */
const instances = [new WeakMap<object, SimdExports | null>(), new WeakMap<object, SimdExports | null>()];

/** The module for the fused-multiply-add setting in force ({@link wasmFmaActive}), compiled once. */
function simdModule(): { module: object | null; variant: number } {
  const variant = wasmFmaActive() ? 1 : 0;
  if (compiled[variant] === undefined) {
    const bytes = wasmModule(simdKernelFunctions({ fma: variant === 1 }));
    compiled[variant] = wasmRuntime.validate(bytes) ? new wasmRuntime.Module(bytes) : null;
  }
  return { module: compiled[variant] ?? null, variant };
}

/** The module instantiated on the backend's memory (one instance per wasm backend and variant). */
function exportsFor(backend: WasmBackendView): SimdExports {
  return instanceFor(backend) as SimdExports;
}

/**
 * The module instantiated on the backend's memory, once per memory; null when that fails (a build whose memory
 * is shared between threads does not match the module's import, or no memory is reachable).
 */
function instanceFor(backend: WasmBackendView): SimdExports | null {
  const memory = backend.wasm?.asm?.memory;
  if (memory === undefined) return null;
  const { module, variant } = simdModule();
  let instance = instances[variant]!.get(memory);
  if (instance === undefined) {
    try {
      instance = new wasmRuntime.Instance(module as object, { env: { memory } })
        .exports as unknown as SimdExports;
    } catch {
      instance = null;
    }
    instances[variant]!.set(memory, instance);
  }
  return instance;
}

/** The byte address of a tensor's data in the wasm backend's memory. */
export function address(backend: WasmBackendView, tensor: tf.TensorInfo): number {
  return (backend.dataIdMap.get(tensor.dataId) as { memoryOffset: number }).memoryOffset;
}

/** The buffer of the backend's memory, for kernels that copy in place (taken per call: the memory may grow). */
export function memoryBuffer(backend: WasmBackendView): ArrayBuffer {
  const memory = backend.wasm?.asm?.memory as { buffer: ArrayBuffer } | undefined;
  if (memory === undefined) throw new InvalidStateError("The wasm backend's memory is not reachable");
  return memory.buffer;
}

/** Registers `kernelName` on the wasm backend, run by `run` on the SIMD module (inputs in the order given). */
export function defineSimdKernel(
  kernelName: string,
  run: (
    backend: WasmBackendView,
    simd: SimdExports,
    inputs: tf.TensorInfo[],
    attrs: Record<string, unknown>,
  ) => tf.TensorInfo[],
): void {
  tf.registerKernel({
    kernelName,
    backendName: "wasm",
    kernelFunc: ({ inputs, backend, attrs }) => {
      const view = backend as unknown as WasmBackendView;
      const given = Object.values(inputs) as tf.TensorInfo[];
      const outputs = run(view, exportsFor(view), given, (attrs ?? {}) as Record<string, unknown>);
      return outputs.length === 1 ? (outputs[0] as tf.TensorInfo) : outputs;
    },
  });
}

/**
 * `define` (calls of {@link defineSimdKernel}) wrapped to run on the first call only: how a kernel file registers
 * its kernels on first use.
 */
export function defineSimdKernelsOnce(define: () => void): () => void {
  let defined = false;
  return () => {
    if (defined) return;
    defined = true;
    define();
  };
}

/** Registers the kernels with tfjs's wasm backend (once). */
const register = defineSimdKernelsOnce(() => {
  const kernel = defineSimdKernel;
  kernel("OrbiterGelu", (backend, simd, [x]) => {
    const out = backend.makeOutput([...x!.shape], "float32");
    simd.gelu(address(backend, x!), address(backend, out), tf.util.sizeFromShape(x!.shape));
    return [out];
  });
  kernel("OrbiterGeluGrad", (backend, simd, [x, dy]) => {
    const out = backend.makeOutput([...x!.shape], "float32");
    simd.geluGrad(
      address(backend, x!),
      address(backend, dy!),
      address(backend, out),
      tf.util.sizeFromShape(x!.shape),
    );
    return [out];
  });
  kernel("OrbiterWeightGrad", (backend, simd, [x, dy], attrs) => {
    const [n, k] = x!.shape as [number, number];
    const m = dy!.shape[1] as number;
    const weight = backend.makeOutput([k, m], "float32");
    const bias = attrs.withBias === false ? null : backend.makeOutput([m], "float32");
    simd.weightGrad(
      address(backend, x!),
      address(backend, dy!),
      address(backend, weight),
      bias === null ? 0 : address(backend, bias),
      n,
      k,
      m,
    );
    return bias === null ? [weight] : [weight, bias];
  });
  kernel("OrbiterColumnSums", (backend, simd, [x]) => {
    const [n, m] = x!.shape as [number, number];
    const out = backend.makeOutput([m], "float32");
    simd.columnSums(address(backend, x!), address(backend, out), n, m);
    return [out];
  });
  kernel("OrbiterMatMul", (backend, simd, [a, b, bias, residual]) => {
    const [n, k] = a!.shape as [number, number];
    const m = b!.shape[1] as number;
    const out = backend.makeOutput([n, m], "float32");
    const [biasAddress, residualAddress] = [bias, residual].map((t) =>
      t === undefined ? 0 : address(backend, t),
    );
    simd.matmul(
      address(backend, a!),
      address(backend, b!),
      biasAddress!,
      address(backend, out),
      n,
      k,
      m,
      residualAddress!,
    );
    return [out];
  });
  kernel("OrbiterLayerNorm", (backend, simd, [x, gain, bias], attrs) => {
    const [n, d] = x!.shape as [number, number];
    const out = backend.makeOutput([n, d], "float32");
    const saved = attrs.save === true;
    const xHat = saved ? backend.makeOutput([n, d], "float32") : null;
    const rstd = saved ? backend.makeOutput([n], "float32") : null;
    simd.layerNorm(
      address(backend, x!),
      address(backend, gain!),
      address(backend, bias!),
      address(backend, out),
      xHat === null ? 0 : address(backend, xHat),
      rstd === null ? 0 : address(backend, rstd),
      n,
      d,
      1 / d,
      attrs.epsilon as number,
    );
    return xHat === null || rstd === null ? [out] : [out, xHat, rstd];
  });
  kernel("OrbiterLayerNormGrad", (backend, simd, [xHat, rstd, gain, dy]) => {
    const [n, d] = xHat!.shape as [number, number];
    const dx = backend.makeOutput([n, d], "float32");
    const dGain = backend.makeOutput([d], "float32");
    const dBias = backend.makeOutput([d], "float32");
    simd.layerNormGrad(
      address(backend, xHat!),
      address(backend, rstd!),
      address(backend, gain!),
      address(backend, dy!),
      address(backend, dx),
      address(backend, dGain),
      address(backend, dBias),
      n,
      d,
      1 / d,
    );
    return [dx, dGain, dBias];
  });
  // Gradients, for use under a tape (the package calls these inside custom gradients, where none is needed).
  tf.registerGradient({
    kernelName: "OrbiterGelu",
    inputsToSave: ["x"],
    gradFunc: (dy, saved) => ({ x: () => simdGeluGrad(saved[0] as tf.Tensor, dy as tf.Tensor) }),
  });
  tf.registerGradient({
    kernelName: "OrbiterMatMul",
    inputsToSave: ["a", "b"],
    gradFunc: (dy, saved) => {
      const [a, b] = saved as [tf.Tensor, tf.Tensor];
      const g = dy as tf.Tensor;
      return {
        a: () => tf.matMul(g, tf.transpose(b)),
        b: () => tf.matMul(tf.transpose(a), g),
        bias: () => tf.sum(g, 0),
        residual: () => g,
      };
    },
  });
  tf.registerGradient({
    kernelName: "OrbiterLayerNorm",
    inputsToSave: ["x", "gain", "bias"],
    gradFunc: (dy, saved, attrs) => {
      const [x, gain, bias] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
      const { epsilon } = attrs as unknown as { epsilon: number };
      const [, xHat, rstd] = simdLayerNorm(x, gain, bias, epsilon, true) as [tf.Tensor, tf.Tensor, tf.Tensor];
      const [dx, dGain, dBias] = simdLayerNormGrad(xHat, rstd, gain, dy as tf.Tensor);
      return { x: () => dx, gain: () => dGain, bias: () => dBias };
    },
  });
  tf.registerGradient({
    kernelName: "OrbiterColumnSums",
    inputsToSave: ["x"],
    gradFunc: (dy, saved) => ({
      x: () => tf.mul(tf.onesLike(saved[0] as tf.Tensor), tf.reshape(dy as tf.Tensor, [1, -1])),
    }),
  });
});

/**
 * Whether the SIMD kernels run here: the wasm backend is active, the runtime has WebAssembly SIMD, and the
 * module links to the backend's memory.
 */
export function simdKernelsActive(): boolean {
  if (tf.getBackend() !== "wasm" || simdModule().module === null) return false;
  if (instanceFor(tf.backend() as unknown as WasmBackendView) === null) return false;
  register();
  return true;
}

/** Runs one of the package's kernels through the tfjs engine. */
export function runSimdKernel(
  kernelName: string,
  inputs: tf.NamedTensorMap,
  attrs: tf.NamedAttrMap = {},
): tf.Tensor | tf.Tensor[] {
  return tf.engine().runKernel(kernelName, inputs, attrs) as tf.Tensor | tf.Tensor[];
}

/**
 * Layer normalisation of the rows of `x [n, d]` (d a multiple of 4) in one pass: `[out]`, or with `save`
 * `[out, x̂, rstd]` for {@link simdLayerNormGrad}. Check {@link simdKernelsActive} and {@link fitsLayerNorm} first.
 */
export function simdLayerNorm(
  x: tf.Tensor,
  gain: tf.Tensor,
  bias: tf.Tensor,
  epsilon: number,
  save: boolean,
): tf.Tensor[] {
  const out = runSimdKernel("OrbiterLayerNorm", { x, gain, bias }, { epsilon, save });
  return Array.isArray(out) ? out : [out];
}

/** `[dx, dGain, dBias]` of {@link simdLayerNorm} from its saved `x̂ [n, d]` and `rstd [n]`. */
export function simdLayerNormGrad(
  xHat: tf.Tensor,
  rstd: tf.Tensor,
  gain: tf.Tensor,
  dy: tf.Tensor,
): [tf.Tensor, tf.Tensor, tf.Tensor] {
  return runSimdKernel("OrbiterLayerNormGrad", { xHat, rstd, gain, dy }) as [tf.Tensor, tf.Tensor, tf.Tensor];
}

/** Whether {@link simdLayerNorm} takes `x [n, d]`: 2-D float32, at least one row, d a multiple of 4. */
export function fitsLayerNorm(x: tf.Tensor, gain: tf.Tensor, bias: tf.Tensor): boolean {
  return (
    fitsColumnSums(x) &&
    gain.dtype === "float32" &&
    bias.dtype === "float32" &&
    gain.size === x.shape[1] &&
    bias.size === x.shape[1]
  );
}

/** GELU (tanh form) of a float32 tensor whose size is a multiple of 4, in one pass. Check {@link simdKernelsActive} first. */
export function simdGelu(x: tf.Tensor): tf.Tensor {
  return runSimdKernel("OrbiterGelu", { x }) as tf.Tensor;
}

/** `dy · GELU′(x)` in one pass (sizes a multiple of 4). Check {@link simdKernelsActive} first. */
export function simdGeluGrad(x: tf.Tensor, dy: tf.Tensor): tf.Tensor {
  return runSimdKernel("OrbiterGeluGrad", { x, dy }) as tf.Tensor;
}

/**
 * `[xᵀ @ dy, Σ_rows dy]` for `x [n, k]`, `dy [n, m]` (k a multiple of 4, m of 8), read in place without
 * transposed or packed copies. Check {@link simdKernelsActive} and {@link fitsWeightGrad} first.
 */
export function simdWeightGrad(x: tf.Tensor, dy: tf.Tensor): [tf.Tensor, tf.Tensor] {
  return runSimdKernel("OrbiterWeightGrad", { x, dy }) as [tf.Tensor, tf.Tensor];
}

/** `xᵀ @ dy` alone, as {@link simdWeightGrad} without the bias sums. */
export function simdWeightGradOnly(x: tf.Tensor, dy: tf.Tensor): tf.Tensor {
  return runSimdKernel("OrbiterWeightGrad", { x, dy }, { withBias: false }) as tf.Tensor;
}

/** Whether {@link simdWeightGrad} takes these operands: 2-D float32, rows equal, k % 4 = 0, m % 8 = 0. */
export function fitsWeightGrad(x: tf.Tensor, dy: tf.Tensor): boolean {
  return (
    x.rank === 2 &&
    dy.rank === 2 &&
    x.dtype === "float32" &&
    dy.dtype === "float32" &&
    x.shape[0] === dy.shape[0] &&
    x.size > 0 &&
    dy.size > 0 &&
    x.shape[1]! % 4 === 0 &&
    dy.shape[1]! % 8 === 0
  );
}

/**
 * `a [n, k] @ b [k, m] (+ bias [m]) (+ residual [n, m], with a bias)` with 4×8 register tiles, `b` read in
 * place (35–39 GFLOP/s here, against 21–29 for XNNPACK). Check {@link simdKernelsActive} and {@link fitsMatMul}
 * first.
 */
export function simdMatMul(
  a: tf.Tensor,
  b: tf.Tensor,
  bias: tf.Tensor | null,
  residual: tf.Tensor | null = null,
): tf.Tensor {
  // Inputs are positional: a residual comes with a bias (fitsMatMul checks).
  const inputs = bias === null ? { a, b } : residual === null ? { a, b, bias } : { a, b, bias, residual };
  return runSimdKernel("OrbiterMatMul", inputs) as tf.Tensor;
}

/**
 * Whether {@link simdMatMul} takes these operands: 2-D float32, n % 4 = 0, m % 8 = 0, a bias of m if any, a
 * residual [n, m] only with a bias.
 */
export function fitsMatMul(
  a: tf.Tensor,
  b: tf.Tensor,
  bias: tf.Tensor | null,
  residual: tf.Tensor | null = null,
): boolean {
  return (
    (residual === null ||
      (bias !== null &&
        residual.dtype === "float32" &&
        residual.rank === 2 &&
        residual.shape[0] === a.shape[0] &&
        residual.shape[1] === b.shape[1])) &&
    a.rank === 2 &&
    b.rank === 2 &&
    a.dtype === "float32" &&
    b.dtype === "float32" &&
    a.size > 0 &&
    b.size > 0 &&
    a.shape[1] === b.shape[0] &&
    a.shape[0]! % 4 === 0 &&
    b.shape[1]! % 8 === 0 &&
    (bias === null || (bias.dtype === "float32" && bias.rank === 1 && bias.shape[0] === b.shape[1]))
  );
}

/** Whether the element-wise kernels take `x`: float32 with a positive size that is a multiple of 4. */
export function fitsElementWise(x: tf.Tensor): boolean {
  return x.dtype === "float32" && x.size > 0 && x.size % 4 === 0;
}

/** Whether {@link simdColumnSums} takes `x`: 2-D float32, at least one row, a multiple of 4 columns. */
export function fitsColumnSums(x: tf.Tensor): boolean {
  return x.rank === 2 && x.dtype === "float32" && x.size > 0 && x.shape[1]! % 4 === 0;
}

/** Column sums `[m]` of `x [n, m]` (float32, m a multiple of 4). Check {@link simdKernelsActive} first. */
export function simdColumnSums(x: tf.Tensor): tf.Tensor {
  return runSimdKernel("OrbiterColumnSums", { x }) as tf.Tensor;
}
