import type { EvolutionProgressEvent } from "./evolution-result.js";

/**
 * Reports the evaluations of one generation as `evaluation` progress events, counting how many of the
 * generation's candidates have a score so far (carried elites count without an event).
 */
export class EvaluationReporter {
  readonly #epoch: number;
  readonly #total: number;
  readonly #onProgress: ((event: EvolutionProgressEvent) => void) | undefined;
  #completed = 0;

  constructor(
    epoch: number,
    total: number,
    onProgress: ((event: EvolutionProgressEvent) => void) | undefined,
  ) {
    this.#epoch = epoch;
    this.#total = total;
    this.#onProgress = onProgress;
  }

  /** Counts a candidate whose score was carried over with it (no event). */
  carried(): void {
    this.#completed++;
  }

  /** Counts a scored candidate and sends its event; `error` is the message of a failed evaluation. */
  scored(index: number, score: number, cached: boolean, error?: string): void {
    this.#completed++;
    this.#onProgress?.({
      type: "evaluation",
      epoch: this.#epoch,
      index,
      score,
      cached,
      ...(error === undefined ? {} : { error }),
      completed: this.#completed,
      total: this.#total,
    });
  }
}
