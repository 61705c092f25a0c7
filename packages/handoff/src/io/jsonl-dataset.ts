import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { InvalidArgumentError } from "@orbiter/types";
import { checkDatasetFormat, type DatasetFormat, type DatasetRow } from "../formats/dataset-format.js";
import { writeAtomically } from "../internal/atomic-file.js";
import { RowValidator } from "../internal/row-validator.js";
import { iterateRows, type RowSource } from "../internal/rows-source.js";
import type { WriteSummary } from "./write-summary.js";

/** Options of {@link writeJsonlDataset} and {@link readJsonlDataset}. */
export interface JsonlDatasetOptions<F extends DatasetFormat> {
  /** The row format (see `DatasetFormat`). */
  format: F;
}

/**
 * Characters JSON leaves raw that some line splitters (Python's `str.splitlines`, editors) take for line breaks;
 * they only ever occur inside JSON strings, where an escape means the same.
 */
const LINE_BREAK_LOOKALIKES = /[\u0085\u2028\u2029]/g;

function escapeLookalike(character: string): string {
  return `\\u${character.charCodeAt(0).toString(16).padStart(4, "0")}`;
}

/**
 * Writes rows of one dataset format as JSON Lines (UTF-8, one row per `\n`-terminated line), streamed and
 * atomically: rows are validated one by one as they are written to a temporary sibling, which is renamed over
 * `path` only when every row is valid. A bad row is an `InvalidArgumentError` naming the field
 * (`rows[3].messages[1].tool_calls[0].function.arguments`), and no file is left behind.
 *
 * @example
 * ```ts
 * await writeJsonlDataset("sft.jsonl", [{ messages: [{ role: "user", content: "Hi" }, { role: "assistant", content: "Hello" }] }],
 *   { format: "openai-chat" });
 * ```
 */
export async function writeJsonlDataset<F extends DatasetFormat>(
  path: string,
  rows: RowSource<DatasetRow<F>>,
  options: JsonlDatasetOptions<F>,
): Promise<WriteSummary> {
  const format = checkDatasetFormat(options?.format) as F;
  const validator = new RowValidator(format, { path: "rows" });
  return writeAtomically(path, async (file) => {
    let count = 0;
    for await (const row of iterateRows(rows)) {
      const parsed = validator.check(row, count);
      await file.write(`${JSON.stringify(parsed).replace(LINE_BREAK_LOOKALIKES, escapeLookalike)}\n`);
      count++;
    }
    await file.flush();
    return { path, rows: count, bytes: file.bytes, sha256: file.sha256() };
  });
}

/**
 * Streams the rows of a JSON Lines dataset file, validating each against its format. Blank lines are skipped; a
 * line that is not JSON or not a valid row is an `InvalidArgumentError` naming the line and the field.
 *
 * @example
 * ```ts
 * for await (const row of streamJsonlDataset("sft.jsonl", { format: "openai-chat" })) console.log(row.messages.length);
 * ```
 */
export async function* streamJsonlDataset<F extends DatasetFormat>(
  path: string,
  options: JsonlDatasetOptions<F>,
): AsyncGenerator<DatasetRow<F>> {
  const format = checkDatasetFormat(options?.format) as F;
  const validator = new RowValidator(format, { path: "rows", file: path });
  const lines = createInterface({ input: createReadStream(path, { encoding: "utf8" }), crlfDelay: Infinity });
  let line = 0;
  let index = 0;
  for await (const text of lines) {
    line++;
    if (text.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new InvalidArgumentError(`Invalid ${format} row in ${path} at line ${line}: not JSON`, {
        field: `rows[${index}]`,
        line,
        cause: error,
      });
    }
    yield validator.check(value, index, line);
    index++;
  }
}

/** Reads every row of a JSON Lines dataset file (see {@link streamJsonlDataset}). */
export async function readJsonlDataset<F extends DatasetFormat>(
  path: string,
  options: JsonlDatasetOptions<F>,
): Promise<Array<DatasetRow<F>>> {
  const rows: Array<DatasetRow<F>> = [];
  for await (const row of streamJsonlDataset(path, options)) rows.push(row);
  return rows;
}
