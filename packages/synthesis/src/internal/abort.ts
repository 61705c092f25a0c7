import { AbortedError } from "@orbiter/types";

/** Throws an {@link AbortedError} (with the signal's reason as cause) when `signal` has fired. */
export function throwIfAborted(signal: AbortSignal | undefined, what = "The synthesis run"): void {
  if (signal?.aborted) throw new AbortedError(`${what} was aborted`, { cause: signal.reason });
}

/** Resolves after `ms` milliseconds, or rejects with an {@link AbortedError} as soon as `signal` fires. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new AbortedError("Waiting was aborted", { cause: signal.reason }));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortedError("Waiting was aborted", { cause: signal?.reason }));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
