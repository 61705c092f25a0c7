import { OrbiterError, type OrbiterErrorOptions } from "@orbiter/types";

const marker = "orbiter.error.GatewayRequestError";
const symbol = Symbol.for(marker);

/** A request of the gateway client failed: the gateway answered with an error status, or could not be reached. */
export class GatewayRequestError extends OrbiterError {
  /** The HTTP status the gateway answered with; undefined when it could not be reached. */
  readonly status: number | undefined;
  /** The `error.type` of the gateway's answer, when it gave one. */
  readonly type: string | undefined;

  constructor(message: string, options: OrbiterErrorOptions & { status?: number; type?: string } = {}) {
    super("ORBITER_GATEWAY_REQUEST", message, options);
    this.name = "GatewayRequestError";
    Object.defineProperty(this, symbol, { value: true });
    this.status = options.status;
    this.type = options.type;
  }

  static override isInstance(error: unknown): error is GatewayRequestError {
    return OrbiterError.hasMarker(error, marker);
  }
}
