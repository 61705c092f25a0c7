import { InvalidArgumentError, messageOf } from "@orbiter/types";
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, type SchemaElement } from "hyparquet";
import { ByteWriter, ParquetWriter } from "hyparquet-writer";
import type { ExtraInfoValue, VerlRow } from "../formats/verl-row.js";
import { type AtomicFile, writeAtomically } from "../internal/atomic-file.js";
import { RowValidator } from "../internal/row-validator.js";
import { iterateRows, type RowSource } from "../internal/rows-source.js";
import type { WriteSummary } from "./write-summary.js";

/** Options of {@link writeVerlParquet}. */
export interface WriteVerlParquetOptions {
  /** Rows per Parquet row group (and per batch held in memory). @default 1000 */
  rowGroupSize?: number;
}

type ExtraInfoType = "STRING" | "INT64" | "DOUBLE" | "BOOLEAN";

const text = (name: string, repetition: "REQUIRED" | "OPTIONAL" = "REQUIRED"): SchemaElement => ({
  name,
  type: "BYTE_ARRAY",
  converted_type: "UTF8",
  repetition_type: repetition,
});

/** verl's row schema; `extra_info` fields are typed from the first batch of rows. */
function verlSchema(extraInfo: ReadonlyArray<[string, ExtraInfoType]>): SchemaElement[] {
  return [
    { name: "root", num_children: 5 },
    text("data_source"),
    { name: "prompt", repetition_type: "REQUIRED", converted_type: "LIST", num_children: 1 },
    { name: "list", repetition_type: "REPEATED", num_children: 1 },
    { name: "element", repetition_type: "REQUIRED", num_children: 2 },
    text("role"),
    text("content"),
    text("ability"),
    { name: "reward_model", repetition_type: "REQUIRED", num_children: 2 },
    text("style"),
    text("ground_truth"),
    { name: "extra_info", repetition_type: "REQUIRED", num_children: extraInfo.length },
    ...extraInfo.map(([name, type]): SchemaElement => {
      if (type === "STRING") return text(name, "OPTIONAL");
      return { name, type, repetition_type: "OPTIONAL" };
    }),
  ];
}

function valueType(value: ExtraInfoValue): ExtraInfoType | undefined {
  if (value === null) return undefined;
  if (typeof value === "string") return "STRING";
  if (typeof value === "boolean") return "BOOLEAN";
  return Number.isSafeInteger(value) && !Object.is(value, -0) ? "INT64" : "DOUBLE";
}

/** Parquet types of the `extra_info` fields: integers are INT64 unless some value is not, then DOUBLE. */
function inferExtraInfoTypes(rows: ReadonlyArray<VerlRow>): Array<[string, ExtraInfoType]> {
  const first = rows[0];
  if (first === undefined) return [];
  return Object.keys(first.extra_info).map((key): [string, ExtraInfoType] => {
    let type: ExtraInfoType | undefined;
    rows.forEach((row, index) => {
      const found = valueType(row.extra_info[key] as ExtraInfoValue);
      if (found === undefined || found === type) return;
      if (type === undefined) type = found;
      else if ((type === "INT64" && found === "DOUBLE") || (type === "DOUBLE" && found === "INT64"))
        type = "DOUBLE";
      else {
        throw new InvalidArgumentError(
          `Invalid verl row: extra_info.${key} is ${type} in earlier rows but ${found} here; a Parquet column has one type`,
          { field: `rows[${index}].extra_info.${key}`, value: row.extra_info[key] },
        );
      }
    });
    return [key, type ?? "STRING"];
  });
}

/** Converts a batch's extra_info values to the column types, or throws naming the row that does not fit. */
function encodeExtraInfo(
  row: VerlRow,
  types: ReadonlyArray<[string, ExtraInfoType]>,
  index: number,
): Record<string, ExtraInfoValue | bigint> {
  const out: Record<string, ExtraInfoValue | bigint> = {};
  for (const [key, type] of types) {
    const value = row.extra_info[key] as ExtraInfoValue;
    const found = valueType(value);
    const fits = found === undefined || found === type || (type === "DOUBLE" && found === "INT64");
    if (!fits) {
      throw new InvalidArgumentError(
        `Invalid verl row: extra_info.${key} is ${type} in the first rows but ${found} here; a Parquet column has one type`,
        { field: `rows[${index}].extra_info.${key}`, value },
      );
    }
    out[key] = type === "INT64" && typeof value === "number" ? BigInt(value) : value;
  }
  return out;
}

/** hyparquet-writer's byte writer, handing each finished row group to an {@link AtomicFile}. */
class FileByteWriter extends ByteWriter {
  readonly #file: AtomicFile;

  constructor(file: AtomicFile) {
    super(1 << 16);
    this.#file = file;
  }

  flush(): Promise<void> {
    const bytes = new Uint8Array(this.buffer, 0, this.index);
    this.index = 0;
    return this.#file.writeBytes(bytes);
  }

  override finish(): Promise<void> {
    return this.flush();
  }
}

const COLUMNS = ["data_source", "prompt", "ability", "reward_model", "extra_info"] as const;

/**
 * Writes verl RL rows as a Parquet file that verl's `RLHFDataset` (Hugging Face `datasets`, pyarrow) reads:
 * `data_source`, `ability` strings, `prompt` a list of `{role, content}` structs, `reward_model` a
 * `{style, ground_truth}` struct and `extra_info` a struct of the rows' extra fields (strings, INT64 for integers,
 * DOUBLE, BOOLEAN; nullable). Streamed one row group at a time and atomic (temporary sibling, fsync, rename); a
 * bad row is an `InvalidArgumentError` naming the field, and no file is left behind.
 *
 * Parquet is written with hyparquet-writer: pure JavaScript, no install script and no native or WebAssembly
 * binary, with nested lists and structs written by its Dremel encoder.
 *
 * @example
 * ```ts
 * await writeVerlParquet("train.parquet", verlRowsFromSamples(samples, { dataSource: "arithmetic", split: "train" }));
 * ```
 */
export async function writeVerlParquet(
  path: string,
  rows: RowSource<VerlRow>,
  options: WriteVerlParquetOptions = {},
): Promise<WriteSummary> {
  const groupSize = options.rowGroupSize ?? 1000;
  if (!Number.isInteger(groupSize) || groupSize < 1) {
    throw new InvalidArgumentError(`rowGroupSize must be a positive integer, got ${groupSize}`, {
      field: "options.rowGroupSize",
      value: groupSize,
    });
  }
  const validator = new RowValidator("verl", { path: "rows" });
  // With every row at hand, the extra_info types come from all of them; a stream types them by its first group.
  const all = Array.isArray(rows)
    ? rows.map((row, index) => validator.check(row, index) as VerlRow)
    : undefined;
  const checked = all === undefined ? validator : undefined;
  return writeAtomically(path, async (file) => {
    const sink = new FileByteWriter(file);
    let writer: ParquetWriter | undefined;
    let types: Array<[string, ExtraInfoType]> = all === undefined ? [] : inferExtraInfoTypes(all);
    let batch: VerlRow[] = [];
    let count = 0;
    const writeBatch = async (): Promise<void> => {
      if (batch.length === 0) return;
      const start = count - batch.length;
      if (writer === undefined) {
        if (all === undefined) types = inferExtraInfoTypes(batch);
        writer = new ParquetWriter({
          writer: sink,
          schema: verlSchema(types),
          createdBy: "@orbiter/handoff",
        });
      }
      const extraInfo = batch.map((row, offset) => encodeExtraInfo(row, types, start + offset));
      const columnData = COLUMNS.map((name) => ({
        name,
        data: name === "extra_info" ? extraInfo : batch.map((row) => row[name]),
      }));
      await writer.write({ columnData, rowGroupSize: batch.length });
      batch = [];
    };
    for await (const row of iterateRows(all ?? rows)) {
      batch.push(checked === undefined ? (row as VerlRow) : (checked.check(row, count) as VerlRow));
      count++;
      if (batch.length >= groupSize) await writeBatch();
    }
    await writeBatch();
    if (writer === undefined) {
      throw new InvalidArgumentError(
        "A verl Parquet file needs at least one row (the schema comes from the rows)",
        {
          field: "rows",
        },
      );
    }
    await writer.finish();
    return { path, rows: count, bytes: file.bytes, sha256: file.sha256() };
  });
}

/** UTF-8 exactly as written: a leading byte-order mark is kept, malformed bytes are an error. */
const utf8 = new TextDecoder("utf-8", { ignoreBOM: true, fatal: true });

function stringFromBytes(bytes: Uint8Array | undefined): string | undefined {
  return bytes === undefined ? undefined : utf8.decode(bytes);
}

/** Converts what hyparquet decodes (bigint, raw UTF-8 bytes) to JSON values. */
function toPlain(value: unknown, field: string): unknown {
  if (value instanceof Uint8Array) {
    try {
      return utf8.decode(value);
    } catch (error) {
      throw new InvalidArgumentError(`${field} is not valid UTF-8`, { field, cause: error });
    }
  }
  if (typeof value === "bigint") {
    const number = Number(value);
    if (!Number.isSafeInteger(number)) {
      throw new InvalidArgumentError(`${field} = ${value} does not fit a JavaScript number exactly`, {
        field,
      });
    }
    return number;
  }
  if (Array.isArray(value)) return value.map((item, index) => toPlain(item, `${field}[${index}]`));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, toPlain(item, `${field}.${key}`)]),
    );
  }
  return value;
}

/**
 * Streams the rows of a verl Parquet file (ours or one written by pyarrow / pandas), one row group at a time,
 * each validated as a verl row (INT64 values become numbers; one that is not a safe integer is refused). A file
 * that is not Parquet (or is cut short) is an `InvalidArgumentError` with `field: "path"`.
 */
export async function* streamVerlParquet(path: string): AsyncGenerator<VerlRow> {
  const file = await asyncBufferFromFile(path);
  const metadata = await parquetMetadataAsync(file).catch((error: unknown) => {
    throw new InvalidArgumentError(`${path} is not a Parquet file: ${messageOf(error)}`, {
      field: "path",
      cause: error,
    });
  });
  const validator = new RowValidator("verl", { path: "rows", file: path });
  let start = 0;
  for (const group of metadata.row_groups) {
    const end = start + Number(group.num_rows);
    let rows: Array<Record<string, unknown>>;
    try {
      // Our decoder, not hyparquet's default: that one drops a leading byte-order mark.
      rows = await parquetReadObjects({
        file,
        metadata,
        rowStart: start,
        rowEnd: end,
        parsers: { stringFromBytes },
      });
    } catch (error) {
      throw new InvalidArgumentError(
        `Could not read rows ${start}-${end - 1} of ${path}: ${messageOf(error)}`,
        {
          field: `rows[${start}]`,
          cause: error,
        },
      );
    }
    for (let offset = 0; offset < rows.length; offset++) {
      const index = start + offset;
      yield validator.check(toPlain({ ...rows[offset] }, `rows[${index}]`), index) as VerlRow;
    }
    start = end;
  }
}

/** Reads every row of a verl Parquet file (see {@link streamVerlParquet}). */
export async function readVerlParquet(path: string): Promise<VerlRow[]> {
  const rows: VerlRow[] = [];
  for await (const row of streamVerlParquet(path)) rows.push(row);
  return rows;
}
