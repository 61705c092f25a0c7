import { setFlagsFromString } from "node:v8";
import { InvalidArgumentError } from "@orbiter/types";
import { z } from "zod";

/**
 * Whether the wasm SIMD kernels fuse their multiply-adds (relaxed SIMD's `f32x4.relaxed_madd`):
 * - `"auto"` (the default): fused when the JavaScript engine already runs relaxed SIMD (Node ≥ 22); V8's flags
 *   are never touched.
 * - `"on"`: fused, and where relaxed SIMD is still behind V8's `--experimental-wasm-relaxed-simd` flag (Node 20)
 *   that flag is turned on for the whole process — every isolate and worker thread, every module compiled after.
 * - `"off"`: separate multiply and add, the rounding of the kernels before relaxed SIMD.
 */
export const WasmFmaMode = z.enum(["auto", "on", "off"]);
/** One of {@link WasmFmaMode}'s values. */
export type WasmFmaMode = z.infer<typeof WasmFmaMode>;

/** The environment variable read for the mode when {@link setWasmFma} was not called. */
export const WASM_FMA_ENV = "ORBITER_WASM_FMA";

const FLAG = "experimental-wasm-relaxed-simd";

/** `(func (param v128 v128 v128) (result v128) local.get 0 local.get 1 local.get 2 f32x4.relaxed_madd)`. */
const PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b,
  0x03, 0x02, 0x01, 0x00, 0x0a, 0x0d, 0x01, 0x0b, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfd, 0x85, 0x02,
  0x0b,
]);

/** The engine's WebAssembly namespace, absent when wasm is not exposed (`--jitless`, `--no-expose-wasm`). */
const wasmRuntime = (globalThis as unknown as { WebAssembly?: { validate(bytes: Uint8Array): boolean } })
  .WebAssembly;

let active: boolean | undefined;
let flagSetHere = false;

/**
 * Whether this engine, as its flags stand now, validates relaxed SIMD: false where WebAssembly itself is missing,
 * so `setWasmFma("on")` there leaves the kernels unfused instead of throwing.
 */
export function relaxedSimdAvailable(): boolean {
  return wasmRuntime?.validate(PROBE) === true;
}

/**
 * Chooses whether the wasm SIMD kernels fuse multiply-adds (see {@link WasmFmaMode}) and returns whether they
 * now do. Takes effect for the kernels run after the call on every backend of this thread; call it before
 * creating a trainer, whose worker threads take the setting in force when they start. `"on"` on Node 20 is a
 * process-wide side effect (a V8 flag); `"auto"` or `"off"` afterwards turns the flag back off. Fused
 * multiply-adds round once instead of twice: results differ from `"off"` in the last bits, and a run is
 * bit-reproducible for a fixed setting on one machine.
 *
 * @throws {InvalidArgumentError} when `mode` is not `"auto"`, `"on"` or `"off"`.
 */
export function setWasmFma(mode: WasmFmaMode): boolean {
  const parsed = WasmFmaMode.safeParse(mode);
  if (!parsed.success) {
    throw new InvalidArgumentError(`wasmFma must be "auto", "on" or "off", not ${JSON.stringify(mode)}`, {
      field: "wasmFma",
      value: mode,
    });
  }
  if (parsed.data === "on" && !relaxedSimdAvailable()) {
    setFlagsFromString(`--${FLAG}`);
    flagSetHere = relaxedSimdAvailable();
  } else if (parsed.data !== "on" && flagSetHere) {
    setFlagsFromString(`--no-${FLAG}`);
    flagSetHere = false;
  }
  active = parsed.data !== "off" && relaxedSimdAvailable();
  return active;
}

/**
 * Whether the kernels fuse multiply-adds: the mode last given to {@link setWasmFma}, or else the one in the
 * `ORBITER_WASM_FMA` environment variable (`auto`, `on`, `off`; unset or empty is `auto`).
 *
 * @throws {InvalidArgumentError} naming `ORBITER_WASM_FMA` when the variable holds another value.
 */
export function wasmFmaActive(): boolean {
  if (active === undefined) {
    // Empty counts as unset, as in the demo application's `--fma` resolution.
    const fromEnv = process.env[WASM_FMA_ENV] || "auto";
    if (!WasmFmaMode.safeParse(fromEnv).success) {
      throw new InvalidArgumentError(
        `${WASM_FMA_ENV} must be auto, on or off, not ${JSON.stringify(fromEnv)}`,
        { field: WASM_FMA_ENV, value: fromEnv },
      );
    }
    return setWasmFma(fromEnv as WasmFmaMode);
  }
  return active;
}
