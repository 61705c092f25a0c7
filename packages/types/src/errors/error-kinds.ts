import { OrbiterError, type OrbiterErrorOptions } from "./orbiter-error.js";

/**
 * Declares one failure kind: a subclass of {@link OrbiterError} with its own `code`, name and
 * `Symbol.for` brand, so `isInstance` works across duplicate installs of the package.
 */
function brand(name: string): { symbol: symbol; marker: string } {
  const marker = `orbiter.error.${name}`;
  return { symbol: Symbol.for(marker), marker };
}

/** Stamps an error with a kind's brand (non-enumerable, so it never shows up in logs or JSON). */
function stamp(error: OrbiterError, kind: { symbol: symbol }): void {
  Object.defineProperty(error, kind.symbol, { value: true });
}

const invalidArgument = brand("InvalidArgumentError");

/** Options of {@link InvalidArgumentError}. */
export interface InvalidArgumentErrorOptions extends OrbiterErrorOptions {
  /** Dotted path of the offending field, e.g. `"metadata.step"` or `"config.ratios"`. */
  field?: string;
  /** 1-based line (or record) number when the bad value came from a file. */
  line?: number;
  /** The value that was rejected. */
  value?: unknown;
}

/**
 * An argument, option or record failed validation. `field` names the offending path; when the value came
 * from a file, `line` names the line. A zod failure is kept as `cause`.
 */
export class InvalidArgumentError extends OrbiterError {
  /** Dotted path of the offending field (empty string when the value as a whole is wrong). */
  readonly field: string;
  /** 1-based line number in the source file, when there is one. */
  readonly line: number | undefined;
  /** The rejected value, when known. */
  readonly value: unknown;

  constructor(message: string, options: InvalidArgumentErrorOptions = {}) {
    super("ORBITER_INVALID_ARGUMENT", message, options);
    this.name = "InvalidArgumentError";
    stamp(this, invalidArgument);
    this.field = options.field ?? "";
    this.line = options.line;
    this.value = options.value;
  }

  static override isInstance(error: unknown): error is InvalidArgumentError {
    return OrbiterError.hasMarker(error, invalidArgument.marker);
  }
}

const invalidState = brand("InvalidStateError");

/** An operation was called in a state that does not allow it (train before validate, run twice, ...). */
export class InvalidStateError extends OrbiterError {
  /** The state the object was in. */
  readonly state: string | undefined;

  constructor(message: string, options: OrbiterErrorOptions & { state?: string } = {}) {
    super("ORBITER_INVALID_STATE", message, options);
    this.name = "InvalidStateError";
    stamp(this, invalidState);
    this.state = options.state;
  }

  static override isInstance(error: unknown): error is InvalidStateError {
    return OrbiterError.hasMarker(error, invalidState.marker);
  }
}

const validationFailed = brand("ValidationFailedError");

/** One or more pre-training checks returned false or threw. `failures` lists every one of them. */
export class ValidationFailedError extends OrbiterError {
  /** Each failed check with the reason (`"returned false"` or the thrown error's message). */
  readonly failures: ReadonlyArray<{ check: string; reason: string; error?: unknown }>;

  constructor(
    message: string,
    failures: ReadonlyArray<{ check: string; reason: string; error?: unknown }>,
    options: OrbiterErrorOptions = {},
  ) {
    super("ORBITER_VALIDATION_FAILED", message, options);
    this.name = "ValidationFailedError";
    stamp(this, validationFailed);
    this.failures = failures;
  }

  static override isInstance(error: unknown): error is ValidationFailedError {
    return OrbiterError.hasMarker(error, validationFailed.marker);
  }
}

const phaseFailed = brand("PhaseError");

/** An exception escaped a lifecycle phase (training, evaluation, ...). The original is `cause`. */
export class PhaseError extends OrbiterError {
  /** The phase that failed, e.g. `"training"`. */
  readonly phase: string;

  constructor(phase: string, message: string, options: OrbiterErrorOptions = {}) {
    super("ORBITER_PHASE_FAILED", message, options);
    this.name = "PhaseError";
    stamp(this, phaseFailed);
    this.phase = phase;
  }

  static override isInstance(error: unknown): error is PhaseError {
    return OrbiterError.hasMarker(error, phaseFailed.marker);
  }
}

const checkpoint = brand("CheckpointError");

/** A checkpoint could not be written, or what was read does not match what is expected. */
export class CheckpointError extends OrbiterError {
  /** The file or folder concerned. */
  readonly path: string | undefined;

  constructor(message: string, options: OrbiterErrorOptions & { path?: string } = {}) {
    super("ORBITER_CHECKPOINT", message, options);
    this.name = "CheckpointError";
    stamp(this, checkpoint);
    this.path = options.path;
  }

  static override isInstance(error: unknown): error is CheckpointError {
    return OrbiterError.hasMarker(error, checkpoint.marker);
  }
}

const aborted = brand("AbortedError");

/** A long-running operation was cancelled through its `AbortSignal`. */
export class AbortedError extends OrbiterError {
  constructor(message = "The operation was aborted", options: OrbiterErrorOptions = {}) {
    super("ORBITER_ABORTED", message, options);
    this.name = "AbortedError";
    stamp(this, aborted);
  }

  static override isInstance(error: unknown): error is AbortedError {
    return OrbiterError.hasMarker(error, aborted.marker);
  }
}

const backend = brand("BackendError");

/** A tensor backend could not be initialised or lacks what an operation needs. */
export class BackendError extends OrbiterError {
  /** The backend concerned (`"tensorflow"`, `"wasm"`, `"cpu"`). */
  readonly backend: string | undefined;

  constructor(message: string, options: OrbiterErrorOptions & { backend?: string } = {}) {
    super("ORBITER_BACKEND", message, options);
    this.name = "BackendError";
    stamp(this, backend);
    this.backend = options.backend;
  }

  static override isInstance(error: unknown): error is BackendError {
    return OrbiterError.hasMarker(error, backend.marker);
  }
}

const reward = brand("RewardError");

/** A reward function threw or returned a value that is not a finite number. */
export class RewardError extends OrbiterError {
  /** Name of the reward function. */
  readonly reward: string;
  /** The sample whose response was being scored, when known. */
  readonly sample: unknown;

  constructor(rewardName: string, message: string, options: OrbiterErrorOptions & { sample?: unknown } = {}) {
    super("ORBITER_REWARD", message, options);
    this.name = "RewardError";
    stamp(this, reward);
    this.reward = rewardName;
    this.sample = options.sample;
  }

  static override isInstance(error: unknown): error is RewardError {
    return OrbiterError.hasMarker(error, reward.marker);
  }
}

const generation = brand("GenerationError");

/** A generator call (LLM client, policy) failed after all its retries. */
export class GenerationError extends OrbiterError {
  /** How many attempts were made. */
  readonly attempts: number;

  constructor(message: string, options: OrbiterErrorOptions & { attempts?: number } = {}) {
    super("ORBITER_GENERATION", message, options);
    this.name = "GenerationError";
    stamp(this, generation);
    this.attempts = options.attempts ?? 1;
  }

  static override isInstance(error: unknown): error is GenerationError {
    return OrbiterError.hasMarker(error, generation.marker);
  }
}
