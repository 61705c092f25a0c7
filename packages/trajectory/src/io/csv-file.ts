import { createReadStream } from "node:fs";
import {
  InvalidArgumentError,
  isWellFormed,
  messageOf,
  type TrajectoryItem,
  toWellFormed,
} from "@orbiter/types";
import { CsvError, type Options, parse } from "csv-parse";
import { type Options as StringifyOptions, stringify } from "csv-stringify/sync";
import { AtomicTextWriter } from "../internal/atomic-text-writer.js";
import { metadataToJson, numberToJson } from "../internal/item-serializer.js";
import { ITEM_KEYS } from "../internal/item-validator.js";
import type { ExportSummary } from "./export-summary.js";
import { guardCsvCell, unguardCsvCell } from "./formula-guard.js";
import { ProblemPolicy, type ResolvedReadOptions, recordError } from "./import-options.js";

/**
 * The columns of an exported CSV file, in order: the trajectory item's fields in schema order. Text columns
 * hold the text (formula-guarded, see {@link guardCsvCell}), number columns the shortest exact decimal form
 * (`-0` included), `metadata` and `messages` their JSON text. An empty cell is an absent optional field; an
 * empty text is written `'`.
 */
export const CSV_COLUMNS = ITEM_KEYS;
/** One column of {@link CSV_COLUMNS}. */
export type CsvColumn = (typeof CSV_COLUMNS)[number];

type ColumnKind = "text" | "number" | "json";
const COLUMN_KIND: Readonly<Record<CsvColumn, ColumnKind>> = {
  id: "text",
  timestamp: "number",
  state: "text",
  action: "text",
  reward: "number",
  metadata: "json",
  taskId: "text",
  agentId: "text",
  episodeId: "text",
  step: "number",
  status: "text",
  messages: "json",
};
const TEXT_FIELDS = ["id", "state", "action", "taskId", "agentId", "episodeId", "status"] as const;
const REQUIRED_COLUMNS: ReadonlyArray<CsvColumn> = ["state", "action", "reward"];

/**
 * Records per call of csv-stringify: enough to amortise the call, few enough that the text it returns
 * (~50 kB) stays a young-generation object. Strings above V8's regular-object limit (128 kB) go to the
 * large-object space, which only a full collection frees, and would make memory grow during a long export.
 */
const BATCH = 64;
const STRINGIFY_OPTIONS: StringifyOptions = { eof: true };

/** How {@link writeCsvFile} handles text that UTF-8 cannot hold (a lone surrogate). */
export type LoneSurrogatePolicy = "error" | "replace";

function textCell(
  item: TrajectoryItem,
  index: number,
  field: (typeof TEXT_FIELDS)[number],
  policy: LoneSurrogatePolicy,
): string | undefined {
  const value = item[field];
  if (value === undefined) return undefined;
  if (!isWellFormed(value)) {
    if (policy === "replace") return guardCsvCell(toWellFormed(value));
    throw new InvalidArgumentError(
      `items[${index}].${field} holds a lone surrogate, which UTF-8 (and so CSV) cannot store; ` +
        'export to JSON or JSONL to keep it exactly, or pass { loneSurrogates: "replace" } to write U+FFFD',
      { field: `items[${index}].${field}` },
    );
  }
  return guardCsvCell(value);
}

function itemToRow(
  item: TrajectoryItem,
  index: number,
  policy: LoneSurrogatePolicy,
): Array<string | undefined> {
  return [
    textCell(item, index, "id", policy),
    numberToJson(item.timestamp),
    textCell(item, index, "state", policy),
    textCell(item, index, "action", policy),
    numberToJson(item.reward),
    guardCsvCell(metadataToJson(item)),
    textCell(item, index, "taskId", policy),
    textCell(item, index, "agentId", policy),
    textCell(item, index, "episodeId", policy),
    item.step === undefined ? undefined : numberToJson(item.step),
    textCell(item, index, "status", policy),
    item.messages === undefined ? undefined : guardCsvCell(JSON.stringify(item.messages)),
  ];
}

/**
 * Writes `items[0, count)` as CSV with the fixed {@link CSV_COLUMNS} header, through csv-stringify in batches,
 * atomically and streamed.
 */
export async function writeCsvFile(
  path: string,
  items: ReadonlyArray<TrajectoryItem>,
  count: number,
  loneSurrogates: LoneSurrogatePolicy,
): Promise<ExportSummary> {
  const bytes = await AtomicTextWriter.write(path, async (writer) => {
    writer.append(stringify([CSV_COLUMNS as unknown as string[]], STRINGIFY_OPTIONS));
    const rows: Array<Array<string | undefined>> = [];
    for (let index = 0; index < count; index++) {
      rows.push(itemToRow(items[index] as TrajectoryItem, index, loneSurrogates));
      if (rows.length === BATCH || index + 1 === count) {
        const text = stringify(rows, STRINGIFY_OPTIONS);
        rows.length = 0;
        if (writer.append(text)) await writer.drain();
      }
    }
  });
  return { path, records: count, bytes };
}

/** A parsed record and the line where it starts. */
interface CsvEntry {
  record: string[];
  line: number;
}

/** JSON's number grammar: what the writer produces, and nothing looser (no `0x10`, ` 1`, `Infinity`). */
const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

function cellValue(column: CsvColumn, cell: string, path: string, line: number): unknown {
  const kind = COLUMN_KIND[column];
  if (kind === "number") {
    if (!NUMBER.test(cell)) {
      throw recordError(path, line, `"${column}": not a number: ${JSON.stringify(cell)}`, { field: column });
    }
    return Number(cell);
  }
  const text = unguardCsvCell(cell);
  if (kind === "text") return text;
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw recordError(path, line, `"${column}": not valid JSON (${messageOf(cause)})`, {
      field: column,
      cause,
    });
  }
}

function readHeader(header: unknown[], path: string): CsvColumn[] {
  const columns: CsvColumn[] = [];
  for (const name of header) {
    if (typeof name !== "string" || !Object.hasOwn(COLUMN_KIND, name)) {
      throw recordError(
        path,
        1,
        `unknown column ${JSON.stringify(name)} in the header (expected some of ${CSV_COLUMNS.join(", ")})`,
        { field: String(name) },
      );
    }
    if (columns.includes(name as CsvColumn)) {
      throw recordError(path, 1, `column "${name}" appears twice in the header`, { field: name });
    }
    columns.push(name as CsvColumn);
  }
  for (const required of REQUIRED_COLUMNS) {
    if (!columns.includes(required)) {
      throw recordError(path, 1, `the header has no "${required}" column`, { field: required });
    }
  }
  return columns;
}

/**
 * Streams the items of a CSV file (csv-parse) into `onItem`. The header names the columns (any order, any
 * subset of {@link CSV_COLUMNS} that includes `state`, `action` and `reward`). A malformed record is an
 * `InvalidArgumentError` naming its line (and the column), or skipped and reported per `options.onError`.
 */
export async function readCsvFile(
  path: string,
  options: ResolvedReadOptions,
  onItem: (item: TrajectoryItem) => void,
): Promise<{ records: number }> {
  const policy = new ProblemPolicy(path, options);
  const skip = options.onError === "skip";
  // No `cast` function and no `raw`: with either, csv-parse builds a context object (copying the raw record)
  // for every field, which makes parsing a hundred times slower.
  // csv-parse reports the line where a record ends; it starts after the previous record and the blank lines.
  // The parser runs ahead of the loop below (and reports skipped records at once), so it numbers the records
  // itself; a refused record is named where it starts too (an unclosed quote is noticed at the end of the file).
  let parsedEnd = 0;
  let parsedEmpty = 0;
  const startOf = (emptyLines: number): number => parsedEnd + (emptyLines - parsedEmpty) + 1;
  const startOfError = (error: CsvError & { empty_lines?: number }): number => {
    const end = typeof error.lines === "number" ? error.lines : 0;
    return Math.min(end, startOf(typeof error.empty_lines === "number" ? error.empty_lines : parsedEmpty));
  };
  // `on_record` gets the record's info (as `info: true` would, at the same cost) and adds where it starts.
  const parserOptions: Options<CsvEntry, string[]> = {
    bom: true,
    skip_empty_lines: true,
    skip_records_with_error: skip,
    on_record: (record, info) => {
      const line = startOf(info.empty_lines);
      parsedEnd = info.lines;
      parsedEmpty = info.empty_lines;
      return { record, line };
    },
  };
  // csv-parse's typings let `on_record` change the record's type only together with `columns`.
  const parser = parse(parserOptions as unknown as Options);
  if (skip) {
    parser.on("skip", (error: CsvError & { empty_lines?: number }) => {
      const line = startOfError(error);
      if (typeof error.lines === "number") parsedEnd = error.lines;
      if (typeof error.empty_lines === "number") parsedEmpty = error.empty_lines;
      policy.invalid(recordError(path, line, error.message, { cause: error }), line);
    });
  }
  const input = createReadStream(path);
  input.on("error", (error) => parser.destroy(error));
  input.pipe(parser);

  let columns: CsvColumn[] | undefined;
  try {
    for await (const entry of parser as AsyncIterable<CsvEntry>) {
      const line = entry.line;
      if (columns === undefined) {
        columns = readHeader(entry.record, path);
        continue;
      }
      const input: Record<string, unknown> = {};
      try {
        for (let index = 0; index < columns.length; index++) {
          const cell = entry.record[index];
          // An empty cell is an absent field (an empty text is written `'`).
          if (cell === undefined || cell === "") continue;
          const column = columns[index] as CsvColumn;
          input[column] = cellValue(column, cell, path, line);
        }
      } catch (error) {
        if (!InvalidArgumentError.isInstance(error)) throw error;
        policy.invalid(error, line);
        continue;
      }
      policy.accept(input, line, onItem);
    }
  } catch (error) {
    if (error instanceof CsvError) {
      const line = startOfError(error);
      throw recordError(path, line, error.message, { cause: error });
    }
    throw error;
  } finally {
    input.destroy();
  }
  if (columns === undefined) throw recordError(path, 1, "the file is empty (no header line)");
  return { records: policy.records };
}
