import { OrbiterError, type OrbiterErrorOptions } from "@orbiter/types";

const marker = "orbiter.error.UpstreamError";
const symbol = Symbol.for(marker);

/** Options of {@link UpstreamError}. */
export interface UpstreamErrorOptions extends OrbiterErrorOptions {
  /** The HTTP status the upstream answered with; absent when it could not be reached or timed out. */
  status?: number;
  /** True when the call was cut off by the upstream timeout. */
  timedOut?: boolean;
}

/**
 * The upstream model endpoint failed: it could not be reached, timed out, answered with an HTTP error or sent
 * something that is not a chat completion. The gateway answers such a call with 502 and records it as failed.
 */
export class UpstreamError extends OrbiterError {
  /** The upstream's HTTP status, when it answered. */
  readonly status: number | undefined;
  /** True when the upstream timeout cut the call off. */
  readonly timedOut: boolean;

  constructor(message: string, options: UpstreamErrorOptions = {}) {
    super("ORBITER_UPSTREAM", message, options);
    this.name = "UpstreamError";
    Object.defineProperty(this, symbol, { value: true });
    this.status = options.status;
    this.timedOut = options.timedOut ?? false;
  }

  static override isInstance(error: unknown): error is UpstreamError {
    return OrbiterError.hasMarker(error, marker);
  }
}
