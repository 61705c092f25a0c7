import type { TrajectorySink } from "@orbiter/trajectory";
import type { TrajectoryItem } from "@orbiter/types";

/**
 * Appends items to a sink and makes them durable in groups: every item appended while a flush is pending joins
 * that flush, so one `fdatasync` covers all the calls that completed in the same turn of the event loop (or
 * during the previous flush). `append` resolves once its item is durable, which is when the gateway answers
 * the client — so a call the client saw acknowledged is on disk.
 */
export class GroupCommit {
  readonly #sink: TrajectorySink;
  readonly #waitForFlush: boolean;
  #waiters: Array<{ resolve: () => void; reject: (error: unknown) => void }> = [];
  #scheduled = false;
  #flushing: Promise<void> = Promise.resolve();
  /** Items appended so far. */
  appended = 0;
  /** Flushes done so far (each covers one group). */
  flushes = 0;

  /**
   * @param options.waitForFlush - resolve `append` only once its item is flushed (true), or at once, leaving the
   * flushing to the sink's own batching (false). @default true
   */
  constructor(sink: TrajectorySink, options: { waitForFlush?: boolean } = {}) {
    this.#sink = sink;
    this.#waitForFlush = options.waitForFlush ?? true;
  }

  /** Appends `item` now (synchronously) and resolves once it has been flushed. */
  append(item: TrajectoryItem): Promise<void> {
    this.#sink.append(item);
    this.appended++;
    if (!this.#waitForFlush) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.#waiters.push({ resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => {
          this.#flushing = this.#flushing.then(() => this.#flushGroup());
        });
      }
    });
  }

  async #flushGroup(): Promise<void> {
    this.#scheduled = false;
    const group = this.#waiters;
    this.#waiters = [];
    if (group.length === 0) return;
    try {
      await this.#sink.flush?.();
      this.flushes++;
      for (const waiter of group) waiter.resolve();
    } catch (error) {
      for (const waiter of group) waiter.reject(error);
    }
  }

  /** Resolves once every item appended so far is durable. */
  async drain(): Promise<void> {
    if (this.#waiters.length === 0) {
      await this.#flushing;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      this.#waiters.push({ resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => {
          this.#flushing = this.#flushing.then(() => this.#flushGroup());
        });
      }
    });
  }
}
