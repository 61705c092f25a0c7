const marker = "orbiter.error";
const symbol = Symbol.for(marker);

/** Options shared by every {@link OrbiterError}. */
export interface OrbiterErrorOptions {
  /** The underlying error, kept for debugging (`error.cause`). */
  cause?: unknown;
}

/**
 * Base class of every error thrown by orbiter-train packages.
 *
 * Each subclass has a stable `code`, so callers can branch on it without `instanceof`, which breaks when two
 * copies of a package are installed. Use {@link OrbiterError.isInstance} for the same reason.
 *
 * @example
 * ```ts
 * try { dataset.capture(input) } catch (error) {
 *   if (InvalidArgumentError.isInstance(error)) console.error(error.field, error.message);
 * }
 * ```
 */
export class OrbiterError extends Error {
  /** Stable, machine-readable identifier of the failure kind, e.g. `"ORBITER_INVALID_ARGUMENT"`. */
  readonly code: string;

  constructor(code: string, message: string, options: OrbiterErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "OrbiterError";
    this.code = code;
    Object.defineProperty(this, symbol, { value: true });
  }

  /** True for any orbiter-train error, even one created by another copy of this package. */
  static isInstance(error: unknown): error is OrbiterError {
    return OrbiterError.hasMarker(error, marker);
  }

  /**
   * Checks the brand that `Symbol.for` shares across copies of the package: for the `isInstance` of subclasses,
   * including those of other packages (so it is part of the published API).
   */
  protected static hasMarker(error: unknown, markerName: string): boolean {
    if (error == null || typeof error !== "object") return false;
    const markerSymbol = Symbol.for(markerName);
    return markerSymbol in error && (error as Record<symbol, unknown>)[markerSymbol] === true;
  }
}
