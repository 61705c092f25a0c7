import { InvalidArgumentError } from "@orbiter/types";
import { relaxedSimdAvailable, setWasmFma, WASM_FMA_ENV, WasmFmaMode } from "@orbiter/verl";

/** Where the demo's fused-multiply-add mode came from, strongest first. */
export type FmaSource = "--fma" | typeof WASM_FMA_ENV | "default";

/** The fused-multiply-add mode the demo asks for, and who chose it. */
export interface FmaRequest {
  /** `auto`, `on` or `off` (see `WasmFmaMode` in @orbiter/verl). */
  mode: WasmFmaMode;
  /** `--fma` on the command line, else the `ORBITER_WASM_FMA` environment variable, else the demo's default. */
  source: FmaSource;
}

/** What a run records about fused multiply-adds: the request and what the engine gave. */
export interface FmaSetting extends FmaRequest {
  /** Whether the wasm kernels fuse multiply-adds in this run. */
  active: boolean;
}

/**
 * The demo's default: `on`. The demo is an application that owns its process, so it may turn on V8's relaxed-SIMD
 * flag on Node 20, which a library (whose default is `auto`) must not do behind its user's back.
 */
export const DEFAULT_FMA_MODE: WasmFmaMode = "on";

function parseMode(raw: string, field: string): WasmFmaMode {
  const parsed = WasmFmaMode.safeParse(raw);
  if (!parsed.success) {
    throw new InvalidArgumentError(
      `${field} must be one of ${WasmFmaMode.options.join(", ")}, got ${JSON.stringify(raw)}`,
      { field, value: raw },
    );
  }
  return parsed.data;
}

/**
 * Chooses the fused-multiply-add mode: `--fma` wins, then `ORBITER_WASM_FMA` when set (and not empty), then
 * {@link DEFAULT_FMA_MODE}.
 *
 * @throws {InvalidArgumentError} naming `--fma` or `ORBITER_WASM_FMA` when it holds another value.
 */
export function fmaRequest(flag: string | undefined, env: NodeJS.ProcessEnv): FmaRequest {
  if (flag !== undefined) return { mode: parseMode(flag, "--fma"), source: "--fma" };
  const fromEnv = env[WASM_FMA_ENV];
  if (fromEnv !== undefined && fromEnv !== "") {
    return { mode: parseMode(fromEnv, WASM_FMA_ENV), source: WASM_FMA_ENV };
  }
  return { mode: DEFAULT_FMA_MODE, source: "default" };
}

/**
 * Applies the request with `setWasmFma` (call it before any model or trainer is built: the trainer's worker
 * threads take the setting in force when they start) and returns what the engine gave. Where the engine cannot
 * run relaxed SIMD even with V8's flag (no WebAssembly at all, for one), `on` falls back to unfused kernels.
 */
export function applyFma(request: FmaRequest): FmaSetting {
  return { ...request, active: setWasmFma(request.mode) };
}

/**
 * One phrase for the start line, the summary and the report, e.g. `fused multiply-adds on (default)` or
 * `fused multiply-adds off: on was asked (ORBITER_WASM_FMA) but this engine cannot run relaxed SIMD`. Only the wasm
 * backend runs the kernels: on another `backend` the phrase says that nothing is fused, whatever was asked.
 */
export function describeFma(setting: FmaSetting, backend: string): string {
  if (backend !== "wasm") {
    return `fused multiply-adds unused: the ${backend} backend runs no wasm kernels (${setting.mode} asked, ${setting.source})`;
  }
  const state = `fused multiply-adds ${setting.active ? "on" : "off"}`;
  if (setting.mode === "on" && !setting.active) {
    return `${state}: on was asked (${setting.source}) but this engine cannot run relaxed SIMD, kernels unfused`;
  }
  if (setting.mode === "auto") {
    const engine = relaxedSimdAvailable()
      ? "engine has relaxed SIMD"
      : "engine lacks relaxed SIMD without a flag";
    return `${state} (auto: ${engine}; ${setting.source})`;
  }
  return `${state} (${setting.source})`;
}
