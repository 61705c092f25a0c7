import { setFlagsFromString } from "node:v8";
import { InvalidArgumentError } from "@orbiter/types";
import * as tf from "@tensorflow/tfjs";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { initBackend } from "../backend/init-backend.js";
import { simdKernelsActive, simdMatMul } from "./simd-kernels.js";
import { backendsForTests } from "./testing/test-backends.js";
import { relaxedSimdAvailable, setWasmFma, WASM_FMA_ENV, wasmFmaActive } from "./wasm-fma.js";

const engineHasIt = relaxedSimdAvailable();
const wasmPresent = (await backendsForTests()).includes("wasm");

afterAll(() => {
  setWasmFma("off");
});

describe("setWasmFma", () => {
  it('rejects a mode other than "auto", "on" or "off" with an InvalidArgumentError naming the field', () => {
    const attempt = () => setWasmFma("fast" as "on");
    expect(attempt).toThrow(InvalidArgumentError);
    expect(attempt).toThrow(/wasmFma must be "auto", "on" or "off", not "fast"/);
    try {
      attempt();
    } catch (error) {
      expect((error as InvalidArgumentError).field).toBe("wasmFma");
    }
  });

  it('"auto" follows the engine, "on" enables relaxed SIMD, "off" undoes a flag it set', () => {
    expect(setWasmFma("auto")).toBe(engineHasIt);
    expect(wasmFmaActive()).toBe(engineHasIt);
    const fused = setWasmFma("on");
    // Node 20's V8 has relaxed SIMD behind a flag, Node ≥ 22's by default: both can run it.
    expect(fused).toBe(true);
    expect(relaxedSimdAvailable()).toBe(true);
    expect(wasmFmaActive()).toBe(true);
    expect(setWasmFma("off")).toBe(false);
    expect(wasmFmaActive()).toBe(false);
    expect(relaxedSimdAvailable()).toBe(engineHasIt);
    expect(setWasmFma("auto")).toBe(engineHasIt);
  });
});

describe(`the ${WASM_FMA_ENV} environment variable`, () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  async function freshModule(value: string) {
    vi.stubEnv(WASM_FMA_ENV, value);
    vi.resetModules();
    return (await import("./wasm-fma.js")) as typeof import("./wasm-fma.js");
  }

  it("sets the mode when setWasmFma was not called", async () => {
    expect((await freshModule("off")).wasmFmaActive()).toBe(false);
    const on = await freshModule("on");
    expect(on.wasmFmaActive()).toBe(true);
    on.setWasmFma("off");
  });

  it("counts an empty variable as unset (auto), as the demo does", async () => {
    expect((await freshModule("")).wasmFmaActive()).toBe(engineHasIt);
  });

  it('"on" where WebAssembly is missing (--jitless, --no-expose-wasm) leaves the kernels unfused, no throw', async () => {
    vi.stubGlobal("WebAssembly", undefined);
    vi.resetModules();
    try {
      const fresh = (await import("./wasm-fma.js")) as typeof import("./wasm-fma.js");
      expect(fresh.relaxedSimdAvailable()).toBe(false);
      expect(fresh.setWasmFma("on")).toBe(false);
      expect(fresh.wasmFmaActive()).toBe(false);
    } finally {
      vi.unstubAllGlobals();
      // The fresh module could not see the V8 flag it set take effect: put the flag back as the engine had it.
      if (!engineHasIt) setFlagsFromString("--no-experimental-wasm-relaxed-simd");
    }
    expect(relaxedSimdAvailable()).toBe(engineHasIt);
  });

  it("holding another value fails with an InvalidArgumentError naming the variable", async () => {
    const fresh = await freshModule("yes");
    // A fresh module graph has its own copy of the error classes: compare by name and fields.
    expect(() => fresh.wasmFmaActive()).toThrow(
      expect.objectContaining({
        name: "InvalidArgumentError",
        field: WASM_FMA_ENV,
        value: "yes",
        message: `${WASM_FMA_ENV} must be auto, on or off, not "yes"`,
      }),
    );
  });
});

describe.runIf(wasmPresent)("the matmul kernel with and without fused multiply-adds", () => {
  /** `a · b + bias` through the kernel (k = 1), with a·b = 1 + 2⁻¹¹ + 2⁻²⁴ not a float32. */
  function product(): Float32Array {
    return tf.tidy(() => {
      const a = tf.fill([4, 1], 1 + 2 ** -12);
      const b = tf.fill([1, 8], 1 + 2 ** -12);
      const bias = tf.fill([8], -(1 + 2 ** -11));
      return simdMatMul(a, b, bias).dataSync() as Float32Array;
    });
  }

  it("rounds a·b before adding when off, and once (exactly 2⁻²⁴ here) when on", async () => {
    await initBackend({ backend: "wasm" });
    expect(simdKernelsActive()).toBe(true);
    setWasmFma("off");
    // 1 + 2⁻¹¹ + 2⁻²⁴ is halfway between two float32s and rounds to the even one, 1 + 2⁻¹¹: the sum is 0.
    expect(Array.from(product())).toEqual(new Array(32).fill(0));
    setWasmFma("on");
    expect(Array.from(product())).toEqual(new Array(32).fill(2 ** -24));
    setWasmFma("off");
    expect(Array.from(product())).toEqual(new Array(32).fill(0));
  });
});
