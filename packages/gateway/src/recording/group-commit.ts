import type { TrajectorySink } from "@orbiter/trajectory";
import type { TrajectoryItem } from "@orbiter/types";

/** A sink that can flush without blocking the event loop (`JsonlSink.flushAsync`). */
interface AsyncFlushingSink extends TrajectorySink {
  flushAsync(): Promise<void>;
}

function flushesAsync(sink: TrajectorySink): sink is AsyncFlushingSink {
  return typeof (sink as Partial<AsyncFlushingSink>).flushAsync === "function";
}

/**
 * Appends items to a sink and makes them durable in groups (group commit): items appended while a flush is
 * running wait for the next one, so one `fdatasync` covers every call that completed meanwhile and a busy
 * gateway does far fewer disk flushes than calls. With a `JsonlSink` the flush runs off the event loop
 * (`flushAsync`), so serving goes on while the disk works. `append` resolves once its item is durable — the
 * gateway answers the client then, so a call the client saw answered is on disk.
 */
export class GroupCommit {
  readonly #sink: TrajectorySink;
  readonly #waitForFlush: boolean;
  #waiters: Array<{ resolve: () => void; reject: (error: unknown) => void }> = [];
  #running: Promise<void> | undefined;
  /** Items appended so far. */
  appended = 0;
  /** Flushes done so far (each covers one group). */
  flushes = 0;

  /**
   * @param options.waitForFlush - resolve `append` only once its item is flushed (true), or at once, flushing
   * in the background (false). @default true
   */
  constructor(sink: TrajectorySink, options: { waitForFlush?: boolean } = {}) {
    this.#sink = sink;
    this.#waitForFlush = options.waitForFlush ?? true;
  }

  /** Appends `item` now (synchronously) and resolves once it has been flushed. */
  append(item: TrajectoryItem): Promise<void> {
    this.#sink.append(item);
    this.appended++;
    if (!this.#waitForFlush) {
      this.#schedule();
      return Promise.resolve();
    }
    return this.#waitForNextFlush();
  }

  /** Resolves once every item appended so far is durable. */
  drain(): Promise<void> {
    return this.#waitForNextFlush();
  }

  #waitForNextFlush(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#waiters.push({ resolve, reject });
      this.#schedule();
    });
  }

  #schedule(): void {
    // One flush at a time: what arrives while it runs forms the next group.
    if (this.#running) return;
    this.#running = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.#flushGroups());
  }

  async #flushGroups(): Promise<void> {
    try {
      while (true) {
        const covered = this.appended;
        const group = this.#waiters;
        this.#waiters = [];
        try {
          if (flushesAsync(this.#sink)) await this.#sink.flushAsync();
          else await this.#sink.flush?.();
          this.flushes++;
          for (const waiter of group) waiter.resolve();
        } catch (error) {
          for (const waiter of group) waiter.reject(error);
        }
        if (this.#waiters.length === 0 && this.appended === covered) break;
      }
    } finally {
      this.#running = undefined;
    }
  }
}
