import { AbortedError } from "@orbiter/types";

/** The error a pool rejects with when its signal aborts. */
export function abortError(signal: AbortSignal): AbortedError {
  const reason = signal.reason;
  if (AbortedError.isInstance(reason)) return reason;
  return new AbortedError("The evolution run was aborted", { cause: reason });
}

/**
 * Runs `task(0) … task(count - 1)` with at most `limit` running at once, starting them in index order. Resolves
 * when all have finished; rejects with the first error, or at once when `signal` aborts (tasks already running
 * are left to finish on their own and their results are ignored). No new task starts after a rejection.
 */
export function runPool(
  count: number,
  limit: number,
  task: (index: number) => unknown,
  signal: AbortSignal,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) {
      reject(abortError(signal));
      return;
    }
    if (count === 0) {
      resolve();
      return;
    }
    let next = 0;
    let active = 0;
    let done = 0;
    let settled = false;
    const settle = (error?: unknown) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener("abort", onAbort);
      if (error === undefined) resolve();
      else reject(error);
    };
    const onAbort = () => settle(abortError(signal));
    signal.addEventListener("abort", onAbort, { once: true });
    const onDone = () => {
      active--;
      done++;
      if (done === count) settle();
      else launch();
    };
    const onError = (error: unknown) => {
      active--;
      settle(error ?? new Error("A task failed without an error"));
    };
    const launch = () => {
      while (!settled && active < limit && next < count) {
        const index = next++;
        active++;
        let result: unknown;
        try {
          result = task(index);
        } catch (error) {
          onError(error);
          return;
        }
        Promise.resolve(result).then(onDone, onError);
      }
    };
    launch();
  });
}
