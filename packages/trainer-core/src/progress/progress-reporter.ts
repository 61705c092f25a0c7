import cliProgress from "cli-progress";
import type {
  EvaluationEvent,
  StateChangeEvent,
  StepEvent,
  TrainerCallbacks,
} from "../trainer/trainer-events.js";

/** A stream the reporter writes to: anything with `write`, optionally a TTY with `columns`. */
export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean | undefined;
  columns?: number | undefined;
}

/** Options of {@link ProgressReporter}. */
export interface ProgressReporterOptions {
  /** Where to draw. @default process.stderr */
  stream?: ProgressStream | undefined;
  /** Name shown before the bar or at the start of each plain line. @default "train" */
  label?: string | undefined;
  /** Draw a bar (true) or plain lines (false). @default stream.isTTY === true */
  tty?: boolean | undefined;
  /** Plain mode: print a line each time progress crosses another multiple of this percentage. @default 10 */
  plainPercentStep?: number | undefined;
  /** Plain mode without a known total: print a line every this many updates. @default 10 */
  plainEvery?: number | undefined;
  /** Redraws of the bar per second at most. @default 10 */
  fps?: number | undefined;
}

/** Values shown next to the progress (`loss=0.512 reward=0.400`). */
export type ProgressValues = Readonly<Record<string, number | string | undefined>>;

function formatValue(value: number | string): string {
  if (typeof value === "string") return value;
  if (Number.isInteger(value)) return String(value);
  const magnitude = Math.abs(value);
  return magnitude !== 0 && (magnitude < 1e-3 || magnitude >= 1e5)
    ? value.toExponential(3)
    : value.toFixed(4);
}

function formatValues(values: ProgressValues): string {
  return Object.entries(values)
    .filter((entry): entry is [string, number | string] => entry[1] !== undefined)
    .map(([name, value]) => `${name}=${formatValue(value)}`)
    .join(" ");
}

/**
 * Shows progress on a terminal: a bar (cli-progress) when the stream is a TTY, plain lines otherwise (CI logs,
 * files, pipes). It is a {@link TrainerCallbacks} (steps move the bar, state changes and evaluations print a
 * line) and a general tool: `start(total)`, `update(value, values)`, `log(line)`, `stop()`.
 *
 * @example
 * ```ts
 * const progress = new ProgressReporter({ label: "evolve" });
 * progress.start(100);
 * for (let i = 1; i <= 100; i++) progress.update(i, { best: i / 100 });
 * progress.stop();
 * ```
 */
export class ProgressReporter implements TrainerCallbacks {
  private readonly stream: ProgressStream;
  private readonly label: string;
  private readonly tty: boolean;
  private readonly percentStep: number;
  private readonly every: number;
  private readonly fps: number;
  private bar: cliProgress.SingleBar | undefined;
  private total: number | undefined;
  private value = 0;
  private updates = 0;
  private lastPrintedBucket = -1;
  private printedComplete = false;
  private running = false;

  constructor(options: ProgressReporterOptions = {}) {
    this.stream = options.stream ?? process.stderr;
    this.label = options.label ?? "train";
    this.tty = options.tty ?? this.stream.isTTY === true;
    this.percentStep = Math.max(1e-9, options.plainPercentStep ?? 10);
    this.every = Math.max(1, Math.floor(options.plainEvery ?? 10));
    this.fps = options.fps ?? 10;
  }

  /** True while a run is being shown. */
  get active(): boolean {
    return this.running;
  }

  /** True when drawing a bar rather than plain lines. */
  get isTTY(): boolean {
    return this.tty;
  }

  /** Starts showing a run of `total` units (unknown total: `undefined`). Stops a previous one first. */
  start(total?: number, values: ProgressValues = {}): void {
    if (this.running) this.stop();
    this.total = total !== undefined && total > 0 ? total : undefined;
    this.value = 0;
    this.updates = 0;
    this.lastPrintedBucket = -1;
    this.printedComplete = false;
    this.running = true;
    if (this.tty) {
      const format =
        this.total === undefined
          ? `${this.label} {value} | {values}`
          : `${this.label} [{bar}] {percentage}% | {value}/{total} | ETA {eta_formatted} | {values}`;
      this.bar = new cliProgress.SingleBar(
        {
          stream: this.stream as NodeJS.WritableStream,
          format,
          fps: this.fps,
          hideCursor: true,
          clearOnComplete: false,
          barsize: 30,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(this.total ?? 0, 0, { values: formatValues(values) });
    } else {
      this.stream.write(`${this.label}: started${this.total === undefined ? "" : ` (${this.total})`}\n`);
    }
  }

  /** Moves progress to `value` and shows `values` next to it. Starts a run with an unknown total if needed. */
  update(value: number, values: ProgressValues = {}): void {
    if (!this.running) this.start(undefined);
    this.value = value;
    this.updates++;
    if (this.bar) {
      this.bar.update(value, { values: formatValues(values) });
      return;
    }
    const shown = formatValues(values);
    if (this.total === undefined) {
      if (this.updates % this.every === 0)
        this.stream.write(`${this.label}: ${value}${shown ? ` ${shown}` : ""}\n`);
      return;
    }
    const percent = (100 * value) / this.total;
    const bucket = Math.floor(percent / this.percentStep);
    // One line per `percentStep` bucket, and the completed line exactly once.
    const complete = value >= this.total;
    if (complete ? this.printedComplete : bucket <= this.lastPrintedBucket) return;
    this.printedComplete = complete;
    this.lastPrintedBucket = bucket;
    this.stream.write(
      `${this.label}: ${value}/${this.total} (${Math.min(100, percent).toFixed(0)}%)${shown ? ` ${shown}` : ""}\n`,
    );
  }

  /** Adds `delta` to the progress. */
  increment(delta = 1, values: ProgressValues = {}): void {
    this.update(this.value + delta, values);
  }

  /** Prints a line (above the bar on a terminal). */
  log(line: string): void {
    if (this.bar) {
      this.stream.write(`\r\x1b[2K${line}\n`);
      this.bar.update(this.value);
    } else {
      this.stream.write(`${line}\n`);
    }
  }

  /** Stops showing the current run (draws the bar one last time and ends its line). */
  stop(): void {
    if (!this.running) return;
    this.running = false;
    if (this.bar) {
      this.bar.stop();
      this.bar = undefined;
    } else {
      this.stream.write(
        `${this.label}: done (${this.value}${this.total === undefined ? "" : `/${this.total}`})\n`,
      );
    }
  }

  /** @see TrainerCallbacks.onStateChange */
  onStateChange(event: StateChangeEvent): void {
    if (event.to === "trained" || event.to === "error" || event.to === "complete") this.stop();
    const reason = event.error instanceof Error ? ` (${event.error.message})` : "";
    this.log(`${this.label}: ${event.from} -> ${event.to}${reason}`);
  }

  /** @see TrainerCallbacks.onStep */
  onStep(event: StepEvent): void {
    if (!this.running) this.start(event.totalSteps);
    const { metrics } = event;
    this.update(event.step, {
      epoch: event.epoch,
      loss: metrics.loss,
      reward: metrics.reward,
      accuracy: metrics.accuracy,
    });
  }

  /** @see TrainerCallbacks.onEvaluation */
  onEvaluation(event: EvaluationEvent): void {
    const { metrics } = event;
    const values = formatValues({ loss: metrics.loss, reward: metrics.reward, accuracy: metrics.accuracy });
    this.log(`${this.label}: ${event.final ? "evaluation" : `evaluation at step ${event.step}`} ${values}`);
  }
}
