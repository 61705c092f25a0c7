import { BackendError, InvalidArgumentError } from "@orbiter/types";
import * as tf from "@tensorflow/tfjs";
import { registerFastGradients } from "./register-fast-gradients.js";
import { shareIdentityOnWasm } from "./share-identity.js";

/** A TensorFlow.js backend orbiter-train can run on: native TensorFlow, WebAssembly or plain JavaScript. */
export type BackendName = "tensorflow" | "wasm" | "cpu";

/** What {@link initBackend} may be asked for: a backend by name, or `"auto"` for the fastest one present. */
export type BackendRequest = BackendName | "auto";

/** Options of {@link initBackend}. */
export interface InitBackendOptions {
  /** Which backend to use; `"auto"` tries `tensorflow`, then `wasm`, then `cpu`. @default "auto" */
  backend?: BackendRequest;
}

const order: ReadonlyArray<BackendName> = ["tensorflow", "wasm", "cpu"];

/** Registers a backend with tfjs by loading its module; resolves to false when it cannot be loaded here. */
async function register(name: BackendName): Promise<{ ok: boolean; error?: unknown }> {
  if (tf.findBackendFactory(name) !== null) return { ok: true };
  try {
    if (name === "tensorflow") {
      const moduleName = "@tensorflow/tfjs-node";
      await import(/* @vite-ignore */ moduleName);
    } else if (name === "wasm") {
      await import("@tensorflow/tfjs-backend-wasm");
    }
    return { ok: tf.findBackendFactory(name) !== null };
  } catch (error) {
    return { ok: false, error };
  }
}

/**
 * tfjs's cpu backend prints a banner ("looks like you are running TensorFlow.js in Node.js ... install our node
 * backend") on the first tensor it stores in Node. Here the cpu backend is only chosen after `tensorflow` (that
 * node backend) was tried or by explicit request, so the advice is moot: the first write is made now, with
 * tfjs's warnings off for that one call only, so that every later warning still shows.
 */
function spendCpuFirstUseNotice(): void {
  const env = tf.env();
  const quiet = env.getBool("IS_TEST");
  env.set("IS_TEST", true);
  try {
    tf.zeros([1]).dispose();
  } finally {
    env.set("IS_TEST", quiet);
  }
}

/** Makes `name` the active tfjs backend; resolves to false when it fails to initialise. */
async function activate(name: BackendName): Promise<{ ok: boolean; error?: unknown }> {
  const registered = await register(name);
  if (!registered.ok) return registered;
  try {
    const ok = await tf.setBackend(name);
    await tf.ready();
    if (ok && name === "cpu") spendCpuFirstUseNotice();
    return { ok: ok && tf.getBackend() === name };
  } catch (error) {
    return { ok: false, error };
  }
}

/**
 * Chooses and initialises the TensorFlow.js backend, and resolves to the one in use. Nothing is chosen at
 * import time: call this once before building a policy. `"auto"` tries `@tensorflow/tfjs-node` (an optional
 * dependency; a missing or broken native addon falls through), then `@tensorflow/tfjs-backend-wasm`, then `cpu`.
 * Asking for one backend by name fails with a {@link BackendError} when it is not available. The faster and
 * missing gradients of {@link registerFastGradients} are registered on the way.
 *
 * @example
 * ```ts
 * const backend = await initBackend({ backend: "auto" }); // "tensorflow" | "wasm" | "cpu"
 * ```
 */
export async function initBackend(options: InitBackendOptions = {}): Promise<BackendName> {
  const request = options.backend ?? "auto";
  if (request !== "auto" && !order.includes(request)) {
    throw new InvalidArgumentError(
      `Unknown backend ${JSON.stringify(request)} (expected "auto", "tensorflow", "wasm" or "cpu")`,
      { field: "backend", value: request },
    );
  }
  const candidates = request === "auto" ? order : [request];
  const failures: string[] = [];
  for (const name of candidates) {
    const result = await activate(name);
    if (result.ok) {
      registerFastGradients();
      if (name === "wasm") shareIdentityOnWasm();
      return name;
    }
    failures.push(`${name}: ${result.error instanceof Error ? result.error.message : "not available"}`);
  }
  throw new BackendError(`No TensorFlow.js backend could be initialised (${failures.join("; ")})`, {
    backend: request,
  });
}

/** The backend tfjs is using now, or undefined when it is not one orbiter-train knows. */
export function currentBackend(): BackendName | undefined {
  const name = tf.getBackend();
  return order.includes(name as BackendName) ? (name as BackendName) : undefined;
}

/**
 * Lists the backends that can be initialised on this machine, in order of preference. Each one is
 * tried, so the active backend may change: call {@link initBackend} afterwards.
 */
export async function availableBackends(): Promise<BackendName[]> {
  const previous = tf.getBackend();
  const present: BackendName[] = [];
  for (const name of order) {
    if ((await activate(name)).ok) present.push(name);
  }
  if (previous && present.includes(previous as BackendName)) await tf.setBackend(previous);
  return present;
}
