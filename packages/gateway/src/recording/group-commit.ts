import type { TrajectorySink } from "@orbiter/trajectory";
import type { TrajectoryItem } from "@orbiter/types";
import type { Durability } from "./durability.js";

/** A sink that can write its buffered lines without forcing them to disk (`JsonlSink.writeBuffered`). */
interface WritingSink extends TrajectorySink {
  writeBuffered(): void;
}

/** A sink that can flush without blocking the event loop (`JsonlSink.flushAsync`). */
interface AsyncFlushingSink extends TrajectorySink {
  flushAsync(): Promise<void>;
}

function writesBuffered(sink: TrajectorySink): sink is WritingSink {
  return typeof (sink as Partial<WritingSink>).writeBuffered === "function";
}

function flushesAsync(sink: TrajectorySink): sink is AsyncFlushingSink {
  return typeof (sink as Partial<AsyncFlushingSink>).flushAsync === "function";
}

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** Settings of a {@link GroupCommit}. */
export interface GroupCommitSettings {
  /** What an acknowledged append guarantees. @default "synced" */
  durability?: Durability;
  /**
   * Longest time a record stays unsynced with `"written"` and `"none"` (a background disk flush follows the
   * first unsynced append after at most this long), in milliseconds. @default 100
   */
  syncIntervalMs?: number;
  /** Receives a failed background disk flush (the next append then rejects too). */
  onBackgroundError?: (error: unknown) => void;
}

/**
 * Appends items to a sink in groups (group commit) and resolves each append at its durability level:
 *
 * - `"synced"`: once its line is on disk. Items appended while a disk flush runs wait for the next one, so one
 *   `fdatasync` covers every call that completed meanwhile and a busy gateway does far fewer disk flushes than
 *   calls. With a `JsonlSink` the flush runs off the event loop (`flushAsync`).
 * - `"written"`: once its line is in the file (`write(2)`; the kernel then holds it, so a SIGKILL of the process
 *   cannot lose it). Every item appended during one turn of the event loop goes out in one write; a background
 *   `fdatasync` follows within `syncIntervalMs`.
 * - `"none"`: at once; lines are written and flushed to disk in the background within `syncIntervalMs`.
 *
 * A sink without `writeBuffered` (anything but a `JsonlSink`) is flushed where a `JsonlSink` would be written,
 * which is at least as durable.
 */
export class GroupCommit {
  readonly #sink: TrajectorySink;
  /** What an acknowledged append guarantees. */
  readonly durability: Durability;
  readonly #syncIntervalMs: number;
  readonly #onBackgroundError: ((error: unknown) => void) | undefined;
  /** Appends waiting for the next write (`"written"`). */
  #writeWaiters: Waiter[] = [];
  /** Appends (`"synced"`) and {@link sync} calls waiting for the next disk flush. */
  #syncWaiters: Waiter[] = [];
  #syncing: Promise<void> | undefined;
  #syncTimer: ReturnType<typeof setTimeout> | undefined;
  /** A failed background write or disk flush, reported by every later append. */
  #failure: unknown;
  /** Items appended but not known to be on disk. */
  #unsynced = 0;
  /** Items appended so far. */
  appended = 0;
  /** Disk flushes done so far (each covers one group). */
  flushes = 0;
  /** Writes done so far with `"written"` (each covers one group). */
  writes = 0;

  constructor(sink: TrajectorySink, settings: GroupCommitSettings = {}) {
    this.#sink = sink;
    this.durability = settings.durability ?? "synced";
    this.#syncIntervalMs = settings.syncIntervalMs ?? 100;
    this.#onBackgroundError = settings.onBackgroundError;
  }

  /**
   * Appends `item` now (synchronously) and resolves once it is as durable as the level promises. Rejects when
   * the write or disk flush that covers it fails, or an earlier background one did.
   */
  append(item: TrajectoryItem): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    this.#sink.append(item);
    this.appended++;
    this.#unsynced++;
    if (this.durability === "synced") return this.#waitForSync();
    if (this.durability === "written") return this.#waitForWrite();
    this.#armSyncTimer();
    return Promise.resolve();
  }

  /**
   * Resolves once every item appended so far is as durable as the level promises an acknowledged call (at once
   * with `"none"`).
   */
  drain(): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (this.durability === "synced" && this.#unsynced > 0) return this.#waitForSync();
    if (this.#writeWaiters.length > 0) return this.#waitForWrite();
    return Promise.resolve();
  }

  /** Resolves once every item appended so far is on disk, whatever the level (the gateway is closing). */
  async sync(): Promise<void> {
    if (this.#syncTimer !== undefined) clearTimeout(this.#syncTimer);
    this.#syncTimer = undefined;
    await this.#syncing?.catch(() => undefined);
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#unsynced > 0) await this.#waitForSync();
  }

  #waitForWrite(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      // After this turn's I/O callbacks: every call that completed in it goes out in the same write.
      if (this.#writeWaiters.length === 0) setImmediate(() => this.#writeGroup());
      this.#writeWaiters.push({ resolve, reject });
    });
  }

  #writeGroup(): void {
    const group = this.#writeWaiters;
    this.#writeWaiters = [];
    if (!writesBuffered(this.#sink)) {
      // No way to write without a flush: flush instead (at least as durable), grouped as with "synced".
      this.#syncWaiters.push(...group);
      this.#startSync();
      return;
    }
    try {
      this.#sink.writeBuffered();
    } catch (error) {
      this.#failure ??= error;
      for (const waiter of group) waiter.reject(error);
      return;
    }
    this.writes++;
    for (const waiter of group) waiter.resolve();
    this.#armSyncTimer();
  }

  /** A background disk flush within `syncIntervalMs` ("written", "none"), unless one is due or running. */
  #armSyncTimer(): void {
    if (this.#syncTimer !== undefined || this.#syncing !== undefined) return;
    this.#syncTimer = setTimeout(() => {
      this.#syncTimer = undefined;
      this.#startSync();
    }, this.#syncIntervalMs);
    this.#syncTimer.unref();
  }

  #waitForSync(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#syncWaiters.push({ resolve, reject });
      // Started after this turn's I/O callbacks, so the calls completed in it share the flush.
      this.#syncing ??= new Promise<void>((next) => setImmediate(next)).then(() => this.#flushGroups());
    });
  }

  #startSync(): void {
    this.#syncing ??= this.#flushGroups();
  }

  /**
   * Flushes to disk — once, then again while appends wait for a flush (one flush at a time: what arrives while
   * one runs forms the next group). A failure rejects the group's waiters and is kept for later appends.
   */
  async #flushGroups(): Promise<void> {
    try {
      do {
        const group = this.#syncWaiters;
        this.#syncWaiters = [];
        const covered = this.#unsynced;
        try {
          if (flushesAsync(this.#sink)) await this.#sink.flushAsync();
          else await this.#sink.flush?.();
          this.flushes++;
          this.#unsynced -= covered;
          for (const waiter of group) waiter.resolve();
        } catch (error) {
          if (this.durability !== "synced") {
            // Nobody waits for a background flush: report it, and refuse what follows.
            this.#failure ??= error;
            this.#onBackgroundError?.(error);
          }
          for (const waiter of group) waiter.reject(error);
        }
      } while (this.#syncWaiters.length > 0);
    } finally {
      this.#syncing = undefined;
    }
    // Lines appended since (with "written" and "none") get their own timed flush.
    if (this.#unsynced > 0 && this.durability !== "synced" && this.#failure === undefined)
      this.#armSyncTimer();
  }
}
