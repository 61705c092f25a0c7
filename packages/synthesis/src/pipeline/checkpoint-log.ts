import {
  closeSync,
  existsSync,
  fdatasyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  truncateSync,
  writeSync,
} from "node:fs";
import { dirname } from "node:path";
import { CheckpointError, type JsonObject, type Sample } from "@orbiter/types";
import { parseSample } from "../internal/parse-sample.js";

/** Checkpointed samples always carry their id; a missing one is left for the schema to report. */
const missingId = (): string => "";

/** Counters of a run, saved with every marker so a resumed run continues them. */
export interface RunCounters extends JsonObject {
  generated: number;
  belowScore: number;
  duplicate: number;
  surplus: number;
  failed: number;
  seedInput: number;
  seedKept: number;
  rounds: number;
  /** Per step: calls, produced (samples returned), accepted, belowScore, duplicate, surplus, failed. */
  steps: Array<{
    calls: number;
    produced: number;
    accepted: number;
    belowScore: number;
    duplicate: number;
    surplus: number;
    failed: number;
  }>;
  /** Messages of the first failures (the count is in `failed`). */
  failures: Array<{ round: number; step: number; index: number; message: string; attempts: number }>;
  /** Samples returned by the steps so far in the current round (a round with none ends the run). */
  roundProduced: number;
}

/** Where the committed part of a checkpoint ends. */
export interface CheckpointState {
  /** Samples accepted up to the last marker, in acceptance order. */
  samples: Sample[];
  /** Counters as of the last marker, or undefined when the seed phase had not finished. */
  counters: RunCounters | undefined;
  /** The last completed step call, or undefined when none had completed. */
  last: { round: number; step: number } | undefined;
}

interface HeaderLine {
  kind: "header";
  version: 1;
  fingerprint: string;
}

/**
 * The append-only JSONL log behind `checkpoint:` — a header, one line per accepted sample, and a marker line
 * (with the run's counters) after the seed phase and after every step call. Lines after the last marker
 * belong to a step call that did not finish: on resume they are cut off and that call is made again.
 */
export class CheckpointLog {
  private constructor(
    readonly path: string,
    private fd: number,
    private readonly durable: boolean,
  ) {}

  /** Opens (or creates) the log at `path`; returns it with what it already holds. */
  static open(
    path: string,
    fingerprint: string,
    durable = false,
  ): { log: CheckpointLog; state: CheckpointState } {
    const state: CheckpointState = { samples: [], counters: undefined, last: undefined };
    let keep = 0;
    if (existsSync(path)) {
      let text: string;
      try {
        text = readFileSync(path, "utf8");
      } catch (error) {
        throw new CheckpointError(`Cannot read checkpoint ${path}`, { path, cause: error });
      }
      keep = CheckpointLog.replay(path, text, fingerprint, state);
    }
    let fd: number;
    try {
      if (existsSync(path)) truncateSync(path, keep);
      else mkdirSync(dirname(path), { recursive: true });
      fd = openSync(path, "a");
    } catch (error) {
      throw new CheckpointError(`Cannot open checkpoint ${path} for writing`, { path, cause: error });
    }
    const log = new CheckpointLog(path, fd, durable);
    if (keep === 0) log.append({ kind: "header", version: 1, fingerprint } satisfies HeaderLine);
    return { log, state };
  }

  /** Reads the committed lines into `state`; returns the byte length of the committed prefix. */
  private static replay(path: string, text: string, fingerprint: string, state: CheckpointState): number {
    let offset = 0;
    let committedBytes = 0;
    let pending: Sample[] = [];
    let line = 0;
    let bytes = 0;
    while (offset < text.length) {
      const end = text.indexOf("\n", offset);
      // A last line without its newline was cut short by a crash: it is not committed.
      if (end < 0) break;
      line++;
      const raw = text.slice(offset, end);
      offset = end + 1;
      bytes += Buffer.byteLength(raw, "utf8") + 1;
      let record: { kind?: unknown; [key: string]: unknown } | null;
      try {
        record = JSON.parse(raw);
      } catch (error) {
        throw new CheckpointError(`Checkpoint ${path} is corrupt at line ${line}`, { path, cause: error });
      }
      if (typeof record !== "object" || record === null) {
        throw new CheckpointError(`Checkpoint ${path} is corrupt at line ${line} (not a record)`, { path });
      }
      if (line === 1) {
        if (record.kind !== "header" || record.version !== 1) {
          throw new CheckpointError(`${path} is not a synthesis checkpoint (no header on line 1)`, { path });
        }
        if (record.fingerprint !== fingerprint) {
          throw new CheckpointError(
            `Checkpoint ${path} was written by a different run (other seed data, config or steps); ` +
              "delete it or choose another path",
            { path },
          );
        }
        committedBytes = bytes;
        continue;
      }
      if (record.kind === "sample") {
        pending.push(parseSample(record.sample, missingId, { what: "checkpointed sample", line }));
      } else if (record.kind === "marker") {
        state.samples.push(...pending);
        pending = [];
        state.counters = record.counters as RunCounters;
        state.last =
          typeof record.round === "number" && record.round >= 0
            ? { round: record.round, step: record.step as number }
            : undefined;
        committedBytes = bytes;
      } else {
        throw new CheckpointError(`Checkpoint ${path} has an unknown record at line ${line}`, { path });
      }
    }
    return committedBytes;
  }

  /** Appends an accepted sample. */
  appendSample(sample: Sample): void {
    this.append({ kind: "sample", sample });
  }

  /**
   * Commits everything written so far: the seed phase (`round` -1) or step call `step` of `round` finished.
   * Written lines survive the process being killed (the kernel holds them); a durable log also flushes them to
   * the disk, to survive a machine crash, at the cost of a sync per marker.
   */
  appendMarker(round: number, step: number, counters: RunCounters): void {
    this.append({ kind: "marker", round, step, counters });
    if (!this.durable) return;
    try {
      fdatasyncSync(this.fd);
    } catch (error) {
      // Not every file system supports it; the data is already handed to the kernel. Any other failure (EIO,
      // ENOSPC) means the lines may not be on the disk: a durable log must say so.
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "EINVAL" || code === "ENOTSUP" || code === "EOPNOTSUPP") return;
      throw new CheckpointError(`Cannot flush checkpoint ${this.path} to the disk`, {
        path: this.path,
        cause: error,
      });
    }
  }

  /** Closes the file. */
  close(): void {
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
  }

  private append(record: Record<string, unknown>): void {
    try {
      // A write may take only part of the bytes; the rest must follow, or the line would be torn mid-file.
      const bytes = Buffer.from(`${JSON.stringify(record)}\n`, "utf8");
      for (let offset = 0; offset < bytes.length; ) offset += writeSync(this.fd, bytes, offset);
    } catch (error) {
      throw new CheckpointError(`Cannot append to checkpoint ${this.path}`, {
        path: this.path,
        cause: error,
      });
    }
  }
}
