import { PhaseError } from "@orbiter/types";
import type { EvaluationFailure } from "./evolution-result.js";

const marker = "orbiter.error.EvaluationsFailedError";

/**
 * Every evaluation of one generation failed, so the run has no score to select on. It is a `PhaseError` of the
 * `evaluating` phase; `failures` lists that generation's failures in population order and `cause` is the first
 * one's error.
 *
 * @example
 * ```ts
 * try { await pipeline.run(population) } catch (error) {
 *   if (EvaluationsFailedError.isInstance(error)) console.error(error.failures.map((f) => f.message));
 * }
 * ```
 */
export class EvaluationsFailedError extends PhaseError {
  /** The generation whose evaluations all failed. */
  readonly epoch: number;
  /** Its failures, by index. */
  readonly failures: ReadonlyArray<EvaluationFailure>;

  constructor(epoch: number, failures: ReadonlyArray<EvaluationFailure>) {
    const first = failures[0];
    super(
      "evaluating",
      `Evolution failed while evaluating: all ${failures.length} evaluations of generation ${epoch} failed` +
        (first === undefined ? "" : ` (the first: ${first.message})`),
      first?.error === undefined ? {} : { cause: first.error },
    );
    this.name = "EvaluationsFailedError";
    Object.defineProperty(this, Symbol.for(marker), { value: true });
    this.epoch = epoch;
    this.failures = failures;
  }

  static override isInstance(error: unknown): error is EvaluationsFailedError {
    return PhaseError.hasMarker(error, marker);
  }
}
