import {
  closeSync,
  fdatasync,
  fdatasyncSync,
  fstatSync,
  fsyncSync,
  openSync,
  readSync,
  writeSync,
} from "node:fs";
import { dirname } from "node:path";
import { InvalidStateError, messageOf, parseWith, pathError, type TrajectoryItem } from "@orbiter/types";
import { z } from "zod";
import { TrajectoryDataset } from "../dataset/trajectory-dataset.js";
import { itemToJson } from "../internal/item-serializer.js";
import { checkPath } from "../io/import-options.js";
import type { JsonlRecoverOptions, JsonlRecovery } from "./jsonl-recovery.js";
import type { TrajectorySink } from "./trajectory-sink.js";

/** Options of {@link JsonlSink}. */
export const JsonlSinkOptions = z.strictObject({
  /**
   * When appended lines are forced to disk. `"always"`: every `append` writes and fdatasyncs its line before
   * returning, so a captured item survives a crash (slow: one disk flush per item). `"batch"`: lines are
   * buffered and written + fdatasynced every `batchSize` items, every `flushIntervalMs`, on `flush()`,
   * `close()` and normal process exit; a crash loses at most the unflushed batch.
   * @default "batch"
   */
  fsync: z.enum(["always", "batch"]).default("batch"),
  /** Items per batch in `"batch"` mode. @default 1000 */
  batchSize: z.number().int().positive().default(1000),
  /** Longest time a buffered line waits in `"batch"` mode, in milliseconds; 0 disables the timer. @default 1000 */
  flushIntervalMs: z.number().int().nonnegative().default(1000),
});
/** Options of {@link JsonlSink}, as accepted. */
export type JsonlSinkOptions = z.input<typeof JsonlSinkOptions>;

/** Items a failed write or disk flush did not (or only partly) put in the file: {@link JsonlSink.unwritten}. */
export interface JsonlUnwritten {
  /** 1-based number, among the items appended to this sink, of the first one lost. */
  first: number;
  /** Their ids, in order. */
  ids: ReadonlyArray<string>;
  /** Their JSON lines (each ends with `\n`), ready to be written elsewhere. */
  lines: ReadonlyArray<string>;
}

/** Lines on their way to disk, with the ids and the number of the first (for {@link JsonlUnwritten}). */
interface LineBatch {
  first: number;
  ids: string[];
  lines: string[];
}

const NEWLINE = 0x0a;

function writeFullySync(fd: number, bytes: Buffer): void {
  let offset = 0;
  while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
}

/** Flushes a directory entry to disk, where the platform allows it. */
function syncDirectorySync(directory: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(directory, "r");
    fsyncSync(fd);
  } catch {
    // Windows cannot open a directory.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Open sinks with buffered lines, flushed on normal process exit. */
const openSinks = new Set<JsonlSink>();
function flushOpenSinksOnExit(): void {
  for (const sink of openSinks) {
    try {
      sink.flush();
    } catch {
      // Nothing can be reported during exit; the lines are lost as in a crash.
    }
  }
}

/**
 * A durable {@link TrajectorySink}: appends every captured item to a JSON Lines file as it is captured.
 *
 * The file is opened for appending (created if needed). Each line is the item's JSON followed by `\n`, written
 * with synchronous system calls so `capture` stays synchronous. After a crash, {@link JsonlSink.recover} reads
 * back every complete line and drops only a torn last line, reporting it. Opening a file whose last line is
 * torn throws `InvalidStateError` (recover it first), so a new line is never glued to a torn one.
 *
 * One process should append to a given file at a time.
 *
 * @example
 * ```ts
 * const sink = new JsonlSink(join(tmpdir(), "run.jsonl"), { fsync: "always" });
 * const dataset = new TrajectoryDataset({ sink });
 * dataset.capture({ state: "s", action: "a", reward: 1 }); // on disk when capture returns
 * sink.close();
 * // after a crash:
 * const { dataset: recovered, report } = await JsonlSink.recover(join(tmpdir(), "run.jsonl"));
 * ```
 */
export class JsonlSink implements TrajectorySink {
  /** The file appended to. */
  readonly path: string;
  /** When lines are forced to disk. */
  readonly fsync: "always" | "batch";
  readonly #batchSize: number;
  #fd: number | undefined;
  /** Lines buffered, not written yet. */
  #pending: LineBatch = { first: 1, ids: [], lines: [] };
  /** Lines written since the last disk flush began (not known to be on disk). */
  #unsynced: LineBatch = { first: 1, ids: [], lines: [] };
  /** Lines whose disk flush ({@link flushAsync}) is running. */
  #syncing = new Set<LineBatch>();
  #unwritten: JsonlUnwritten | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #failure: unknown;
  /** Set when the flush timer failed and no call has reported it yet: `close` throws it then. */
  #failureUnreported = false;
  #appended = 0;
  /** Disk flushes of {@link flushAsync} still running on the thread pool. */
  #syncsInFlight = 0;
  /** The descriptor `close` left open for them: closed when the last one ends. */
  #closeWhenSynced: number | undefined;
  /** Bytes written since the last disk flush. */
  #dirty = false;

  /**
   * @throws InvalidArgumentError naming `path` when its folder does not exist, it is a folder, or it cannot be
   * opened (the system error as `cause`); InvalidStateError when the file ends with a torn line
   */
  constructor(path: string, options: JsonlSinkOptions = {}) {
    this.path = checkPath(path);
    const parsed = parseWith(JsonlSinkOptions, options, { what: "JsonlSink options", path: "options" });
    this.fsync = parsed.fsync;
    this.#batchSize = parsed.batchSize;
    // "a+": appends always go to the end; positioned reads are allowed (to check the last byte).
    let fd: number;
    try {
      fd = openSync(this.path, "a+", 0o666);
    } catch (error) {
      throw pathError(error, this.path, "append to");
    }
    try {
      const { size } = fstatSync(fd);
      if (size > 0) {
        const last = Buffer.alloc(1);
        readSync(fd, last, 0, 1, size - 1);
        if (last[0] !== NEWLINE) {
          throw new InvalidStateError(
            `${this.path} ends with an incomplete line (a torn write?); run JsonlSink.recover(path) before appending`,
            { state: "torn" },
          );
        }
      } else {
        // A new (or empty) file: make its directory entry durable too.
        fdatasyncSync(fd);
        syncDirectorySync(dirname(this.path));
      }
    } catch (error) {
      closeSync(fd);
      throw error;
    }
    this.#fd = fd;
    if (this.fsync === "batch") {
      openSinks.add(this);
      if (openSinks.size === 1) process.on("exit", flushOpenSinksOnExit);
      if (parsed.flushIntervalMs > 0) {
        this.#timer = setInterval(() => {
          if (this.#failure !== undefined) return;
          try {
            this.flush();
          } catch (error) {
            this.#failure = error;
            this.#failureUnreported = true;
          }
        }, parsed.flushIntervalMs);
        this.#timer.unref();
      }
    }
  }

  /** Whether {@link close} was called. */
  get closed(): boolean {
    return this.#fd === undefined;
  }

  /** Items appended since the sink was opened. */
  get appended(): number {
    return this.#appended;
  }

  /**
   * After a failed write or disk flush: the items that may be missing or torn in the file, with their JSON lines
   * (every item appended but not known to be on disk). `undefined` while nothing has failed.
   */
  get unwritten(): JsonlUnwritten | undefined {
    return this.#unwritten;
  }

  /** Records what a failure lost (everything not known to be on disk) and returns the error to throw. */
  #fail(error: unknown): InvalidStateError {
    const batches = [...this.#syncing, this.#unsynced, this.#pending].filter((batch) => batch.ids.length > 0);
    const ids = batches.flatMap((batch) => batch.ids);
    const first = batches[0]?.first ?? this.#appended + 1;
    this.#unwritten = { first, ids, lines: batches.flatMap((batch) => batch.lines) };
    const last = first + ids.length - 1;
    const which =
      ids.length === 1
        ? `item ${first} of this sink (id ${JSON.stringify(ids[0])})`
        : `items ${first} to ${last} of this sink (ids ${JSON.stringify(ids[0])} to ${JSON.stringify(ids.at(-1))})`;
    const failure = new InvalidStateError(
      `JsonlSink ${this.path}: writing ${ids.length === 0 ? "to the file" : which} failed (${messageOf(error)}); ${ids.length === 0 ? "no item was lost" : "they may be missing or torn in the file, and are kept in sink.unwritten"}`,
      { cause: error, state: "failed" },
    );
    this.#failure ??= failure;
    return failure;
  }

  /** Starts a new batch after `batch`, numbered on from it. */
  static #after(batch: LineBatch): LineBatch {
    return { first: batch.first + batch.ids.length, ids: [], lines: [] };
  }

  #checkOpen(): number {
    if (this.#failure !== undefined) {
      this.#failureUnreported = false;
      const failure = this.#failure;
      throw new InvalidStateError(`JsonlSink ${this.path} failed earlier: ${(failure as Error).message}`, {
        cause: failure,
        state: "failed",
      });
    }
    if (this.#fd === undefined)
      throw new InvalidStateError(`JsonlSink ${this.path} is closed`, { state: "closed" });
    return this.#fd;
  }

  /** Appends one item as a line; in `"always"` mode it is on disk when this returns. */
  append(item: TrajectoryItem): void {
    this.#checkOpen();
    const line = itemToJson(item) + "\n";
    this.#pending.lines.push(line);
    this.#pending.ids.push(item.id);
    if (this.fsync === "always" || this.#pending.ids.length >= this.#batchSize) this.flush();
    this.#appended++;
  }

  /**
   * Writes and fdatasyncs the buffered lines. On failure it throws `InvalidStateError` naming the items that may
   * be lost (see {@link unwritten}), and the sink refuses further appends.
   */
  flush(): void {
    const fd = this.#checkOpen();
    if (this.#pending.ids.length === 0 && !this.#dirty) return;
    this.#writePending(fd);
    try {
      fdatasyncSync(fd);
    } catch (error) {
      throw this.#fail(error);
    }
    this.#dirty = false;
    this.#unsynced = JsonlSink.#after(this.#unsynced);
  }

  #writePending(fd: number): void {
    const pending = this.#pending;
    if (pending.ids.length === 0) return;
    try {
      writeFullySync(fd, Buffer.from(pending.lines.join(""), "utf8"));
    } catch (error) {
      throw this.#fail(error);
    }
    this.#dirty = true;
    this.#unsynced.ids.push(...pending.ids);
    this.#unsynced.lines.push(...pending.lines);
    this.#pending = JsonlSink.#after(pending);
  }

  /**
   * Writes the buffered lines to the file (one `write(2)` for all of them) without forcing them to disk. Once
   * this returns, the lines are the kernel's: they survive the process being killed (even by SIGKILL), though
   * not an OS crash or a power loss until the next {@link flush} or {@link flushAsync}, which then forces them
   * to disk too. A server can answer a request after this returns and flush to disk in the background. On
   * failure it throws `InvalidStateError` naming the items that may be lost (see {@link unwritten}).
   *
   * @example
   * ```ts
   * sink.append(item);
   * sink.writeBuffered(); // a SIGKILL from here on does not lose the item
   * await sink.flushAsync(); // and now neither does a power loss
   * ```
   */
  writeBuffered(): void {
    this.#writePending(this.#checkOpen());
  }

  /**
   * Like {@link flush}, but the disk flush (`fdatasync`) runs on libuv's thread pool, so the event loop keeps
   * serving while the disk works: the buffered lines are written at once, and the promise resolves once they
   * (and every line written before) are on disk. A server that answers only after this resolves loses no
   * answered request to a crash, without stalling other requests for each flush.
   */
  async flushAsync(): Promise<void> {
    const fd = this.#checkOpen();
    this.#writePending(fd);
    if (!this.#dirty) return;
    this.#dirty = false;
    const syncing = this.#unsynced;
    this.#unsynced = JsonlSink.#after(syncing);
    this.#syncing.add(syncing);
    this.#syncsInFlight++;
    try {
      await new Promise<void>((resolve, reject) =>
        fdatasync(fd, (error) => (error ? reject(error) : resolve())),
      );
    } catch (error) {
      throw this.#fail(error);
    } finally {
      this.#syncing.delete(syncing);
      this.#syncsInFlight--;
      if (this.#syncsInFlight === 0 && this.#closeWhenSynced !== undefined) {
        closeSync(this.#closeWhenSynced);
        this.#closeWhenSynced = undefined;
      }
    }
  }

  /**
   * Flushes and closes the file. Closing twice is allowed. Throws `InvalidStateError` when a timed flush failed
   * and no `append` or `flush` has reported it yet (its lines are lost).
   */
  close(): void {
    if (this.#fd === undefined) return;
    try {
      if (this.#failure === undefined) this.flush();
    } finally {
      if (this.#timer) clearInterval(this.#timer);
      if (openSinks.delete(this) && openSinks.size === 0) process.off("exit", flushOpenSinksOnExit);
      // A flushAsync still running on the thread pool keeps the descriptor until it ends (never reused under it).
      if (this.#syncsInFlight > 0) this.#closeWhenSynced = this.#fd;
      else closeSync(this.#fd);
      this.#fd = undefined;
    }
    if (this.#failureUnreported) this.#checkOpen();
  }

  /**
   * Reads back a JSON Lines file after a crash: every complete line becomes an item; an incomplete last line
   * (torn write) is dropped and reported, and (unless `repair: false`) cut off the file so appending can go
   * on. Mid-file corruption is not a torn write: it throws `InvalidArgumentError` naming the line, or with
   * `onError: "skip"` is skipped and reported. A missing file recovers as empty. The same as
   * {@link TrajectoryDataset.recoverJsonl}, where the recovered dataset is built.
   *
   * @example
   * ```ts
   * const { dataset, report } = await JsonlSink.recover(path, { resume: { fsync: "always" } });
   * if (report.tornLine) console.warn(`dropped torn line ${report.tornLine.line}`);
   * dataset.capture(nextItem); // appended to the same file
   * ```
   */
  static recover(path: string, options: JsonlRecoverOptions = {}): Promise<JsonlRecovery> {
    return TrajectoryDataset.recoverJsonl(path, options, "JsonlSink.recover");
  }
}
