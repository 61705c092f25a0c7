/**
 * The life of one upstream call: stopped by the caller's abort signal or by its deadline, whichever comes
 * first. One timer and one listener per call, and no AbortController of its own: what is in flight (the HTTP
 * request) registers how to stop it with {@link UpstreamCall.onStop}.
 */
export class UpstreamCall {
  /** True once the deadline passed. */
  timedOut = false;
  /** Why the call was stopped (the caller's abort reason, or the timeout error); undefined while it runs. */
  reason: unknown;
  #stopped = false;
  #stop: ((reason: Error) => void) | undefined;
  readonly #timer: ReturnType<typeof setTimeout>;
  readonly #caller: AbortSignal | undefined;
  readonly #onAbort: () => void;

  /**
   * @param caller - the caller's signal (the client went away, the gateway is closing)
   * @param timeoutMs - the deadline of the whole call, streaming included
   * @param timeoutError - the error a call past its deadline stops with
   */
  constructor(caller: AbortSignal | undefined, timeoutMs: number, timeoutError: () => Error) {
    this.#caller = caller;
    this.#onAbort = () => this.#halt(caller?.reason ?? new Error("aborted"));
    this.#timer = setTimeout(() => {
      this.timedOut = true;
      this.#halt(timeoutError());
    }, timeoutMs);
    if (caller?.aborted) this.#onAbort();
    else caller?.addEventListener("abort", this.#onAbort, { once: true });
  }

  /** Whether the call was stopped (aborted by the caller or past its deadline). */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** Registers how to stop what is in flight; runs it at once when the call is already stopped. */
  onStop(stop: (reason: Error) => void): void {
    this.#stop = stop;
    if (this.#stopped) stop(asError(this.reason));
  }

  /** Clears the deadline and the listener; call once the call is over, however it ended. */
  release(): void {
    clearTimeout(this.#timer);
    this.#caller?.removeEventListener("abort", this.#onAbort);
    this.#stop = undefined;
  }

  #halt(reason: unknown): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.reason = reason;
    this.#stop?.(asError(reason));
  }
}

function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}
