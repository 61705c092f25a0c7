import { InvalidStateError, messageOf, PhaseError, ValidationFailedError } from "@orbiter/types";
import { TypedEmitter } from "../internal/typed-emitter.js";
import { runChecks } from "./run-checks.js";
import type { TrainerCallbacks, TrainerEvents } from "./trainer-events.js";
import { canTransition, TrainerState } from "./trainer-state.js";

/**
 * The state machine of one {@link Trainer}: its state, the error that ended it, the events it sends, and the
 * rules of moving between states (see {@link TRAINER_TRANSITIONS}). The trainer runs each phase through
 * {@link TrainerLifecycle.runPhase}.
 */
export class TrainerLifecycle {
  /** The current state. */
  state: TrainerState = TrainerState.CREATED;
  /** The error that moved the trainer to `error`. */
  failure: unknown;
  /** The trainer's events (state changes, steps, epochs, evaluations, checkpoints). */
  readonly events = new TypedEmitter<TrainerEvents>();
  readonly #name: string;
  readonly #throwIfAborted: () => void;

  /**
   * @param name the trainer's class name, for messages
   * @param throwIfAborted checks cancellation as a phase starts
   */
  constructor(name: string, throwIfAborted: () => void) {
    this.#name = name;
    this.#throwIfAborted = throwIfAborted;
  }

  /**
   * Runs `body` as a phase: moves to `active` (checking cancellation), runs it, moves to `done`. A failure
   * anywhere moves to `error` and is thrown as {@link TrainerLifecycle.fail} shapes it.
   */
  async runPhase<T>(
    phase: string,
    active: TrainerState,
    done: TrainerState,
    body: () => Promise<T>,
  ): Promise<T> {
    try {
      await this.transition(active);
      this.#throwIfAborted();
      const result = await body();
      await this.transition(done);
      return result;
    } catch (error) {
      throw await this.fail(phase, error);
    }
  }

  /**
   * Runs the checks one after the other: `created → validating → validated`. When any returns something other
   * than `true` or throws, it moves to `error` and throws a `ValidationFailedError` listing every failed check.
   */
  async validate(checks: ReadonlyArray<[string, () => unknown]>): Promise<void> {
    this.assertCan("validate()", TrainerState.VALIDATING);
    try {
      await this.transition(TrainerState.VALIDATING);
      // runChecks never throws: a throwing check is listed as a failure.
      const failures = await runChecks(checks);
      if (failures.length > 0) {
        const list = failures.map((failure) => `${failure.check} ${failure.reason}`).join("; ");
        throw new ValidationFailedError(`${this.#name} validation failed: ${list}`, failures);
      }
      await this.transition(TrainerState.VALIDATED);
    } catch (error) {
      // fail() passes a ValidationFailedError through as it is.
      throw await this.fail("validation", error);
    }
  }

  /** Registers an object of callbacks on the events; returns a function that removes them. */
  subscribe(callbacks: TrainerCallbacks): () => void {
    const { events } = this;
    const removers: Array<() => void> = [];
    if (callbacks.onStateChange) removers.push(events.on("stateChange", (e) => callbacks.onStateChange?.(e)));
    if (callbacks.onStep) removers.push(events.on("step", (e) => callbacks.onStep?.(e)));
    if (callbacks.onEpoch) removers.push(events.on("epoch", (e) => callbacks.onEpoch?.(e)));
    if (callbacks.onEvaluation) removers.push(events.on("evaluation", (e) => callbacks.onEvaluation?.(e)));
    if (callbacks.onCheckpoint) removers.push(events.on("checkpoint", (e) => callbacks.onCheckpoint?.(e)));
    return () => {
      for (const remove of removers) remove();
    };
  }

  /** Throws `InvalidStateError` (with a hint) unless the trainer may move from its state to `target`. */
  assertCan(action: string, target: TrainerState): void {
    const state = this.state;
    if (canTransition(state, target)) return;
    let hint = "";
    if (state === TrainerState.CREATED && target === TrainerState.TRAINING)
      hint = ": call validate() first, or run()";
    else if (state === TrainerState.ERROR)
      hint = ": it failed earlier (see trainer.error); create a new trainer";
    else if (target === TrainerState.EVALUATING && state !== TrainerState.EVALUATING)
      hint = ": train it first";
    else if (state === TrainerState.TRAINING || state === TrainerState.EVALUATING || state === "validating") {
      hint = ": another phase is running";
    }
    throw new InvalidStateError(`Cannot ${action} while ${this.#name} is "${state}"${hint}`, { state });
  }

  /** Throws `InvalidStateError` unless the trainer is in `state` (for calls only allowed inside a phase). */
  assertInside(action: string, state: TrainerState): void {
    if (this.state !== state) {
      throw new InvalidStateError(
        `${action} may only be called while ${this.#name} is "${state}", not "${this.state}"`,
        { state: this.state },
      );
    }
  }

  /** Moves to `to` and tells the `stateChange` listeners (awaited). */
  async transition(to: TrainerState): Promise<void> {
    const from = this.state;
    this.state = to;
    await this.events.emit("stateChange", { from, to });
  }

  /** Moves to `error` and returns the error to throw: validation failures as they are, others in a PhaseError. */
  async fail(phase: string, error: unknown): Promise<Error> {
    const from = this.state;
    this.state = TrainerState.ERROR;
    this.failure = error;
    try {
      await this.events.emit("stateChange", { from, to: TrainerState.ERROR, error });
    } catch {
      // A listener of the error transition must not hide the failure being reported.
    }
    if (ValidationFailedError.isInstance(error)) return error;
    return new PhaseError(phase, `${this.#name} failed during ${phase}: ${messageOf(error)}`, {
      cause: error,
    });
  }
}
