import { type FileHandle, mkdir, open, readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { InvalidArgumentError } from "@orbiter/types";
import type {
  EpochEvent,
  EvaluationEvent,
  StateChangeEvent,
  StepEvent,
  TrainerCallbacks,
} from "../trainer/trainer-events.js";
import type { CompletedTrainMetrics, StepMetrics } from "./train-metrics.js";

/** Kind of a metrics log line. */
export type MetricsLogKind = "step" | "epoch" | "evaluation";

/**
 * One line of a metrics log. Numbers that JSON cannot hold (NaN, infinities) are written as `null`.
 *
 * ```json
 * {"kind":"step","step":3,"epoch":0,"time":"2026-01-01T00:00:00.000Z","loss":0.52,"reward":0.4,"learningRate":0.0001,"extra":{"kl":0.01}}
 * ```
 */
export interface MetricsLogRecord {
  /** `step` once per optimiser step, `epoch` at the end of an epoch, `evaluation` per evaluation. */
  kind: MetricsLogKind;
  /** Step counter (1-based for steps). */
  step: number;
  /** Epoch counter, when known. */
  epoch?: number;
  /** ISO time the line was logged. */
  time: string;
  /** Loss. */
  loss?: number | null;
  /** Accuracy. */
  accuracy?: number | null;
  /** Mean reward. */
  reward?: number | null;
  /** Learning rate of the step. */
  learningRate?: number | null;
  /** True for the final evaluation phase (evaluation lines only). */
  final?: boolean;
  /** Other named numbers. */
  extra: Record<string, number | null>;
}

/** Options of {@link MetricsLogger}. */
export interface MetricsLoggerOptions {
  /** File to write (JSON lines). Its folder is created. */
  path: string;
  /** Keep the lines already in the file instead of starting it afresh. @default false */
  append?: boolean | undefined;
  /** Clock for the `time` field (tests pass a fixed one). @default () => new Date() */
  now?: (() => Date) | undefined;
}

/**
 * Writes training metrics as JSON lines, one line per optimiser step (plus epoch and evaluation lines). The file
 * stays open between lines; lines logged while a write is in flight are batched into the next write, and each
 * `log*` call resolves once its line is written. Used on its own, call {@link MetricsLogger.close} when done (a
 * later line opens the file again, appending).
 *
 * It is also a {@link TrainerCallbacks}: pass it in a trainer's `callbacks`, or give the trainer a
 * `metricsLogPath`. As a callback it does not hold the training loop up while the disk writes: the line is queued
 * and the step goes on; a write that failed is thrown at the next event, and the file is flushed and closed at the
 * end of each phase (a failure then fails the phase). The lines of a failed write are kept and written, in order,
 * by the next write that succeeds.
 *
 * @example
 * ```ts
 * const log = new MetricsLogger({ path: "/tmp/run/metrics.jsonl" });
 * await log.logStep(1, { loss: 0.7, reward: 0.2 });
 * const lines = await readMetricsLog("/tmp/run/metrics.jsonl");
 * ```
 */
export class MetricsLogger implements TrainerCallbacks {
  /** The file being written. */
  readonly path: string;
  private readonly now: () => Date;
  private started: boolean;
  private buffer: string[] = [];
  private tail: Promise<void> = Promise.resolve();
  private linesWritten = 0;
  private handle: FileHandle | undefined;
  private backgroundFailure: unknown;

  constructor(options: MetricsLoggerOptions) {
    if (typeof options?.path !== "string" || options.path === "") {
      throw new InvalidArgumentError("MetricsLogger needs a file path", {
        field: "path",
        value: options?.path,
      });
    }
    this.path = options.path;
    this.now = options.now ?? (() => new Date());
    this.started = options.append ?? false;
  }

  /** Number of lines written to the file so far. */
  get count(): number {
    return this.linesWritten;
  }

  /** Logs one optimiser step. */
  logStep(step: number, metrics: StepMetrics, context: { epoch?: number | undefined } = {}): Promise<void> {
    return this.enqueue({
      kind: "step",
      step,
      ...(context.epoch === undefined ? {} : { epoch: context.epoch }),
      time: this.now().toISOString(),
      ...numbers(metrics),
    });
  }

  /** Logs the end of an epoch. */
  logEpoch(epoch: number, step: number, metrics?: CompletedTrainMetrics): Promise<void> {
    return this.enqueue({ kind: "epoch", step, epoch, time: this.now().toISOString(), ...numbers(metrics) });
  }

  /** Logs an evaluation. */
  logEvaluation(
    step: number,
    metrics: CompletedTrainMetrics,
    context: { final?: boolean } = {},
  ): Promise<void> {
    return this.enqueue({
      kind: "evaluation",
      step,
      time: this.now().toISOString(),
      final: context.final ?? false,
      ...numbers(metrics),
    });
  }

  /** Resolves when every line logged so far is written. */
  flush(): Promise<void> {
    return this.tail.catch(() => undefined);
  }

  /** Writes what is pending and closes the file. Logging again re-opens it in append mode. */
  close(): Promise<void> {
    this.tail = this.tail
      .catch(() => undefined)
      .then(async () => {
        const handle = this.handle;
        this.handle = undefined;
        await handle?.close();
      });
    return this.tail;
  }

  /** @see TrainerCallbacks.onStateChange: flushes and closes the file when a phase ends. */
  async onStateChange(event: StateChangeEvent): Promise<void> {
    if (event.to === "trained" || event.to === "complete" || event.to === "error") {
      await this.close();
      this.throwBackgroundFailure();
    }
  }

  /** @see TrainerCallbacks.onStep */
  onStep(event: StepEvent): void {
    this.inBackground(this.logStep(event.step, event.metrics, { epoch: event.epoch }));
  }

  /** @see TrainerCallbacks.onEpoch */
  onEpoch(event: EpochEvent): void {
    this.inBackground(this.logEpoch(event.epoch, event.step, event.metrics));
  }

  /** @see TrainerCallbacks.onEvaluation */
  onEvaluation(event: EvaluationEvent): void {
    this.inBackground(this.logEvaluation(event.step, event.metrics, { final: event.final }));
  }

  /** Lets a write go on without waiting for it; its failure is thrown by the next callback. */
  private inBackground(write: Promise<void>): void {
    this.throwBackgroundFailure();
    write.catch((error: unknown) => {
      this.backgroundFailure ??= error;
    });
  }

  private throwBackgroundFailure(): void {
    const failure = this.backgroundFailure;
    if (failure === undefined) return;
    this.backgroundFailure = undefined;
    throw failure;
  }

  private enqueue(record: MetricsLogRecord): Promise<void> {
    this.buffer.push(`${JSON.stringify(record)}\n`);
    // A failed write rejects its own callers only; the next write tries again with what is buffered then.
    this.tail = this.tail.catch(() => undefined).then(() => this.writeBuffered());
    return this.tail;
  }

  private async writeBuffered(): Promise<void> {
    if (this.buffer.length === 0) return;
    const lines = this.buffer;
    this.buffer = [];
    try {
      if (this.handle === undefined) {
        if (!this.started) await mkdir(dirname(this.path), { recursive: true });
        this.handle = await open(this.path, this.started ? "a" : "w");
        this.started = true;
      }
      await this.handle.write(lines.join(""));
    } catch (error) {
      // Nothing logged is dropped: the lines go back in front of those logged since, for the next write.
      this.buffer = lines.concat(this.buffer);
      throw error;
    }
    this.linesWritten += lines.length;
  }
}

function numbers(metrics: StepMetrics | CompletedTrainMetrics | undefined): Partial<MetricsLogRecord> & {
  extra: Record<string, number>;
} {
  if (!metrics) return { extra: {} };
  const out: Partial<MetricsLogRecord> = { loss: metrics.loss };
  if (metrics.accuracy !== undefined) out.accuracy = metrics.accuracy;
  if (metrics.reward !== undefined) out.reward = metrics.reward;
  if ("learningRate" in metrics && metrics.learningRate !== undefined)
    out.learningRate = metrics.learningRate;
  return { ...out, extra: { ...metrics.extra } };
}

/**
 * Reads a metrics log written by {@link MetricsLogger}. Blank lines are skipped; a line that is not a JSON
 * object throws an `InvalidArgumentError` naming the line.
 */
export async function readMetricsLog(path: string): Promise<MetricsLogRecord[]> {
  const text = await readFile(path, "utf8");
  const records: MetricsLogRecord[] = [];
  const lines = text.split("\n");
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]?.trim();
    if (!line) continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new InvalidArgumentError(`Invalid metrics log ${path} at line ${index + 1}: not JSON`, {
        line: index + 1,
        cause: error,
      });
    }
    if (value === null || typeof value !== "object" || Array.isArray(value) || !("kind" in value)) {
      throw new InvalidArgumentError(
        `Invalid metrics log ${path} at line ${index + 1}: not a metrics record`,
        {
          line: index + 1,
          value,
        },
      );
    }
    records.push(value as MetricsLogRecord);
  }
  return records;
}
