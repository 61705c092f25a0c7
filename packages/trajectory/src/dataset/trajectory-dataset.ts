import {
  type ChatMessage,
  InvalidArgumentError,
  onPath,
  parseWith,
  type Sample,
  type TrajectoryItem,
  type TrajectoryItemInput,
} from "@orbiter/types";
import { z } from "zod";
import { validateItem } from "../internal/item-validator.js";
import { readCsvFile, writeCsvFile } from "../io/csv-file.js";
import type { ExportSummary } from "../io/export-summary.js";
import {
  checkPath,
  type ReadOptionsInput,
  type ResolvedReadOptions,
  resolveReadOptions,
} from "../io/import-options.js";
import { RevisionCollector } from "../io/item-revisions.js";
import { readJsonFile, writeJsonFile } from "../io/json-file.js";
import { readJsonlFile, writeJsonlFile } from "../io/jsonl-file.js";
import { type CaptureMessagesOptions, messagesToItemInput } from "../messages/capture-messages.js";
import {
  type JsonlRecoverOptions,
  type JsonlRecovery,
  readRecoverableJsonl,
} from "../sink/jsonl-recovery.js";
import type { TrajectorySink } from "../sink/trajectory-sink.js";
import { DefaultStrategy } from "../strategy/default-strategy.js";
import type { TrajectoryStrategy } from "../strategy/trajectory-strategy.js";
import { discountedReturns, type Episode, orderEpisodeSteps } from "./episodes.js";
import { toSample } from "./to-sample.js";

function isStrategy(value: unknown): value is TrajectoryStrategy {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as TrajectoryStrategy).shouldCapture === "function" &&
    typeof (value as TrajectoryStrategy).process === "function"
  );
}

function isSink(value: unknown): value is TrajectorySink {
  return (
    typeof value === "object" && value !== null && typeof (value as TrajectorySink).append === "function"
  );
}

/** Options of {@link TrajectoryDataset}. */
export const TrajectoryDatasetOptions = z.strictObject({
  /**
   * Decides which items are kept and how they are transformed.
   * @default new DefaultStrategy() (keep everything, unchanged)
   */
  strategy: z
    .custom<TrajectoryStrategy>(
      isStrategy,
      "expected a TrajectoryStrategy (shouldCapture and process methods)",
    )
    .optional(),
  /** Receives every stored item as it is stored, e.g. a {@link JsonlSink}. @default none */
  sink: z.custom<TrajectorySink>(isSink, "expected a TrajectorySink (an append method)").optional(),
});
/** Options of {@link TrajectoryDataset}, as accepted. */
export type TrajectoryDatasetOptions = z.input<typeof TrajectoryDatasetOptions>;

/** Options of {@link TrajectoryDataset.returns}. */
export const ReturnsOptions = z.strictObject({
  /** Discount factor in [0, 1]. @default 1 (undiscounted) */
  gamma: z.number().min(0).max(1).default(1),
});
/** Options of {@link TrajectoryDataset.returns}, as accepted. */
export type ReturnsOptions = z.input<typeof ReturnsOptions>;

/** Options of {@link TrajectoryDataset.exportCsv}. */
export const ExportCsvOptions = z.strictObject({
  /**
   * What to do with text holding a lone surrogate (half of a UTF-16 pair, e.g. from slicing an emoji), which
   * UTF-8 cannot encode: `"error"` throws `InvalidArgumentError` naming the item and field and leaves the
   * target untouched; `"replace"` writes U+FFFD instead (lossy). JSON and JSONL exports keep such text exactly.
   * @default "error"
   */
  loneSurrogates: z.enum(["error", "replace"]).default("error"),
});
/** Options of {@link TrajectoryDataset.exportCsv}, as accepted. */
export type ExportCsvOptions = z.input<typeof ExportCsvOptions>;

/** Options of the `TrajectoryDataset.from*` importers: how to read, and the new dataset's options. */
export type ImportOptions = ReadOptionsInput & TrajectoryDatasetOptions;

function splitImportOptions(options: unknown, what: string) {
  if (options !== undefined && (typeof options !== "object" || options === null)) {
    throw new InvalidArgumentError(`Invalid ${what} options: expected an object`, { field: "options" });
  }
  const { strategy, sink, ...read } = (options ?? {}) as Record<string, unknown>;
  const datasetOptions: Record<string, unknown> = {};
  if (strategy !== undefined) datasetOptions.strategy = strategy;
  if (sink !== undefined) datasetOptions.sink = sink;
  return { read: resolveReadOptions(read, what), dataset: datasetOptions as TrajectoryDatasetOptions };
}

function refuseWrite(): never {
  throw new InvalidArgumentError(
    "TrajectoryDataset.items is a read-only view: add items with capture() (validated), remove them with clear()",
    { field: "items" },
  );
}

/** Traps every write to the array behind {@link TrajectoryDataset.items}; reads go through unchanged. */
const readOnlyView: ProxyHandler<TrajectoryItem[]> = {
  set: refuseWrite,
  defineProperty: refuseWrite,
  deleteProperty: refuseWrite,
  setPrototypeOf: refuseWrite,
  preventExtensions: refuseWrite,
};

/**
 * An in-memory collection of State-Action-Reward trajectory items: capture with validation and a strategy,
 * query, and export to / import from JSON, JSON Lines and CSV.
 *
 * @example
 * ```ts
 * const dataset = new TrajectoryDataset();
 * dataset.capture({ state: "User asks about Python", action: "search(query='Python')", reward: 0.8,
 *                   metadata: { agent: "assistant", step: 3 } }); // id and timestamp are filled in
 * dataset.length; // 1
 * await dataset.exportJsonl(join(tmpdir(), "trajectories.jsonl"));
 * const again = await TrajectoryDataset.fromJsonl(join(tmpdir(), "trajectories.jsonl"));
 * ```
 */
export class TrajectoryDataset implements Iterable<TrajectoryItem> {
  /** The strategy applied by {@link capture}. */
  readonly strategy: TrajectoryStrategy;
  /** The sink every stored item is sent to, if any. */
  readonly sink: TrajectorySink | undefined;
  #items: TrajectoryItem[] = [];
  /** The read-only view of `#items` handed out by {@link items} (made on first use, again after `clear`). */
  #view: ReadonlyArray<TrajectoryItem> | undefined;
  /** True for an unmodified `DefaultStrategy`: keep everything as validated, no second validation. */
  readonly #passThrough: boolean;

  constructor(options: TrajectoryDatasetOptions = {}) {
    const parsed = parseWith(TrajectoryDatasetOptions, options, {
      what: "TrajectoryDataset options",
      path: "options",
    });
    this.strategy = parsed.strategy ?? new DefaultStrategy();
    this.sink = parsed.sink;
    this.#passThrough = Object.getPrototypeOf(this.strategy) === DefaultStrategy.prototype;
  }

  /** Number of stored items. */
  get length(): number {
    return this.#items.length;
  }

  /**
   * The stored items, in capture order: a live read-only view (it grows as items are captured; after
   * {@link clear} a new one starts, and a view taken before keeps the old items). Writing to it (`push`, an
   * index, `length`, ...) throws `InvalidArgumentError` naming `items`: items only enter through
   * {@link capture}, validated.
   */
  get items(): ReadonlyArray<TrajectoryItem> {
    this.#view ??= new Proxy(this.#items, readOnlyView);
    return this.#view;
  }

  [Symbol.iterator](): Iterator<TrajectoryItem> {
    return this.#items[Symbol.iterator]();
  }

  /**
   * Validates `input`, applies the strategy (`shouldCapture`, then `process`, whose result is validated again),
   * sends the item to the sink and stores it. Returns the stored item, or `undefined` when the strategy declines.
   * Invalid input throws `InvalidArgumentError` naming the field, and the dataset is left as it was.
   *
   * @example
   * ```ts
   * const item = dataset.capture({ state: "s", action: "a", reward: 1, taskId: "t", episodeId: "e", step: 0 });
   * ```
   */
  capture(input: TrajectoryItemInput): TrajectoryItem | undefined {
    let item = validateItem(input, { what: "trajectory item" });
    if (!this.#passThrough) {
      const keep = this.strategy.shouldCapture(item);
      if (typeof keep !== "boolean") {
        throw new InvalidArgumentError(
          `strategy.shouldCapture must return a boolean, got ${keep === null ? "null" : typeof keep}`,
          { field: "strategy.shouldCapture", value: keep },
        );
      }
      if (!keep) return undefined;
      item = validateItem(this.strategy.process(item), {
        what: "trajectory item returned by strategy.process",
      });
    }
    this.sink?.append(item);
    this.#items.push(item);
    return item;
  }

  /**
   * Captures the last assistant turn of an OpenAI-style conversation (see {@link captureMessages}), through the
   * strategy and the sink like {@link capture}.
   */
  captureMessages(
    messages: ReadonlyArray<ChatMessage>,
    options: CaptureMessagesOptions,
  ): TrajectoryItem | undefined {
    return this.capture(messagesToItemInput(messages, options));
  }

  /** Removes every stored item (the sink keeps what it received). */
  clear(): void {
    this.#items = [];
    this.#view = undefined;
  }

  /** The items of one task, in capture order. */
  byTask(taskId: string): TrajectoryItem[] {
    return this.#items.filter((item) => item.taskId === taskId);
  }

  /**
   * The items grouped by `episodeId` (episodes in order of first appearance), each episode ordered by `step`;
   * equal steps keep capture order and steps without `step` come last. Items without `episodeId` are left out.
   */
  episodes(): Episode[] {
    const items = this.#items;
    return [...orderEpisodeSteps(items)].map(([episodeId, indices]) => ({
      episodeId,
      items: indices.map((index) => items[index] as TrajectoryItem),
    }));
  }

  /**
   * Discounted return of each item within its episode, aligned with {@link items}:
   * `G_t = r_t + gamma * G_{t+1}` over the episode's steps in order. An item without `episodeId` is an
   * episode of its own (its return is its reward).
   *
   * @example
   * ```ts
   * dataset.returns({ gamma: 0.9 }); // [r0 + 0.9 * (r1 + 0.9 * r2), r1 + 0.9 * r2, r2] for a 3-step episode
   * ```
   */
  returns(options: ReturnsOptions = {}): number[] {
    const { gamma } = parseWith(ReturnsOptions, options, { what: "returns options", path: "options" });
    return discountedReturns(this.#items, gamma);
  }

  /** The items as training samples (state → input, action → output, reward → score); see {@link toSample}. */
  toSamples(): Sample[] {
    return this.#items.map(toSample);
  }

  /** Flushes the sink, if it can be flushed. */
  async flush(): Promise<void> {
    await this.sink?.flush?.();
  }

  /** Closes the sink, if it can be closed. */
  async close(): Promise<void> {
    await this.sink?.close?.();
  }

  /**
   * Writes the items (those present when called) to `path` as one JSON array, one item per line. Streamed
   * (memory does not grow with the dataset) and atomic (a temporary file in the same folder, fsynced, then
   * renamed: the target is never left partial).
   */
  async exportJson(path: string): Promise<ExportSummary> {
    const target = checkPath(path);
    return onPath(target, "export to", () => writeJsonFile(target, this.#items, this.#items.length));
  }

  /** Writes the items to `path` as JSON Lines (one item per line). Streamed and atomic, like {@link exportJson}. */
  async exportJsonl(path: string): Promise<ExportSummary> {
    const target = checkPath(path);
    return onPath(target, "export to", () => writeJsonlFile(target, this.#items, this.#items.length));
  }

  /**
   * Writes the items to `path` as CSV with the fixed {@link CSV_COLUMNS} (nested fields as JSON, text cells
   * formula-guarded). Streamed and atomic, like {@link exportJson}.
   */
  async exportCsv(path: string, options: ExportCsvOptions = {}): Promise<ExportSummary> {
    const target = checkPath(path);
    const parsed = parseWith(ExportCsvOptions, options, { what: "exportCsv options", path: "options" });
    return onPath(target, "export to", () =>
      writeCsvFile(target, this.#items, this.#items.length, parsed.loneSurrogates),
    );
  }

  /**
   * Reads a JSON array of items (streamed, so files larger than memory-friendly strings work). Items are
   * validated but not passed through the strategy or the sink. A malformed record throws
   * `InvalidArgumentError` naming its line, or with `{ onError: "skip" }` is skipped and reported to
   * `onWarning`.
   */
  static fromJson(path: string, options?: ImportOptions): Promise<TrajectoryDataset> {
    return TrajectoryDataset.#read(path, options, "fromJson", (source, read, items) =>
      readJsonFile(source, read, (item) => items.push(item)),
    );
  }

  /**
   * Reads a JSON Lines file, streamed. Like {@link fromJson}; an incomplete last line (a torn write) is a
   * malformed record here — use `JsonlSink.recover` to drop it. A line whose `id` repeats an earlier line's is
   * a revision: it replaces that item where it stood (an append-only file updates an item this way; the
   * gateway writes an episode's reward so).
   *
   * @example
   * ```ts
   * const dataset = await TrajectoryDataset.fromJsonl("runs.jsonl", {
   *   onError: "skip",
   *   onWarning: (warning) => console.warn(warning.message),
   * });
   * ```
   */
  static fromJsonl(path: string, options?: ImportOptions): Promise<TrajectoryDataset> {
    return TrajectoryDataset.#read(path, options, "fromJsonl", (source, read, items) => {
      const collector = new RevisionCollector(items);
      return readJsonlFile(source, read, "error", (item) => collector.add(item));
    });
  }

  /**
   * Recovers a JSON Lines file after a crash (what `JsonlSink.recover` does): every complete line becomes an item;
   * an incomplete last line (torn write) is dropped and reported, and (unless `repair: false`) cut off the file
   * so appending can go on; with `resume` a new `JsonlSink` appends to the file again and is attached to the
   * dataset. Mid-file corruption is not a torn write: it throws `InvalidArgumentError` naming the line, or with
   * `onError: "skip"` is skipped and reported. A missing file recovers as empty.
   *
   * @param what how the caller is named in errors @default "TrajectoryDataset.recoverJsonl"
   * @example
   * ```ts
   * const { dataset, report } = await TrajectoryDataset.recoverJsonl(path, { resume: true });
   * if (report.tornLine) console.warn(`dropped torn line ${report.tornLine.line}`);
   * ```
   */
  static async recoverJsonl(
    path: string,
    options: JsonlRecoverOptions = {},
    what = "TrajectoryDataset.recoverJsonl",
  ): Promise<JsonlRecovery> {
    const recovered = await readRecoverableJsonl(path, options, what);
    const dataset = new TrajectoryDataset(recovered.datasetOptions);
    dataset.#items = recovered.items;
    return { dataset, report: recovered.report, sink: recovered.sink };
  }

  /** Reads a CSV file (csv-parse, streamed) written by {@link exportCsv} or with the same columns. */
  static fromCsv(path: string, options?: ImportOptions): Promise<TrajectoryDataset> {
    return TrajectoryDataset.#read(path, options, "fromCsv", (source, read, items) =>
      readCsvFile(source, read, (item) => items.push(item)),
    );
  }

  /** One importer: options split and checked, the path checked, the file read into a new dataset's items. */
  static async #read(
    path: string,
    options: ImportOptions | undefined,
    what: string,
    reader: (source: string, read: ResolvedReadOptions, items: TrajectoryItem[]) => Promise<unknown>,
  ): Promise<TrajectoryDataset> {
    const { read, dataset } = splitImportOptions(options, what);
    const result = new TrajectoryDataset(dataset);
    const source = checkPath(path);
    await onPath(source, "read", () => reader(source, read, result.#items));
    return result;
  }
}
