import type { TrajectoryItem } from "@orbiter/types";
import { messageOf } from "@orbiter/types";
import { AtomicTextWriter } from "../internal/atomic-text-writer.js";
import { itemToJson } from "../internal/item-serializer.js";
import { readLines } from "../internal/line-reader.js";
import type { ExportSummary } from "./export-summary.js";
import { ImportWarningKind, ProblemPolicy, type ResolvedReadOptions, recordError } from "./import-options.js";

/**
 * Writes `items[0, count)` as JSON Lines (one item per line, `\n` after each), atomically and streamed.
 */
export async function writeJsonlFile(
  path: string,
  items: ReadonlyArray<TrajectoryItem>,
  count = items.length,
): Promise<ExportSummary> {
  const bytes = await AtomicTextWriter.write(path, async (writer) => {
    for (let index = 0; index < count; index++) {
      if (writer.append(itemToJson(items[index] as TrajectoryItem), "\n")) await writer.drain();
    }
  });
  return { path, records: count, bytes };
}

/** What a torn last line does when a JSONL file is read. */
export type TornLinePolicy = "error" | "drop";

/** What {@link readJsonlFile} saw. */
export interface JsonlReadSummary {
  /** Items read (and handed to `onItem`). */
  records: number;
  /** Lines in the file, blank ones included. */
  lines: number;
  /** The unterminated last line that was dropped as torn, if any. */
  tornLine: { line: number; bytes: number } | undefined;
  /** Size of the file in bytes. */
  bytes: number;
  /** Size of the file without the torn last line. */
  validBytes: number;
  /** True when the kept content ends with a line break (or is empty): appending can go on right away. */
  endsWithNewline: boolean;
}

function isBlank(text: string): boolean {
  return text.trim().length === 0;
}

/**
 * Streams the items of a JSON Lines file into `onItem` in bounded memory. Blank lines are ignored. A malformed
 * line is an `InvalidArgumentError` naming the line, or skipped and reported, per `options.onError`.
 *
 * A last line without line break that is not valid JSON is what a crash during an append leaves behind: with
 * `tornLine: "drop"` it is always dropped and reported as `incomplete-record`; with `"error"` it is an
 * ordinary malformed record. (A last line that is complete JSON but lacks only its `\n` is kept: a strict
 * prefix of a JSON object is never valid JSON.)
 */
export async function readJsonlFile(
  path: string,
  options: ResolvedReadOptions,
  tornLine: TornLinePolicy,
  onItem: (item: TrajectoryItem) => void,
  chunkBytes?: number,
): Promise<JsonlReadSummary> {
  const policy = new ProblemPolicy(path, options);
  let tornLineNumber: number | undefined;

  const incomplete = (lineNumber: number, cause?: unknown): void => {
    const error = recordError(
      path,
      lineNumber,
      "the last line is incomplete (the file ends in the middle of a record, as a torn write leaves it)",
      { cause },
    );
    if (tornLine === "drop") {
      tornLineNumber = lineNumber;
      policy.warn(ImportWarningKind.INCOMPLETE_RECORD, error, lineNumber);
    } else if (options.onError === "throw") throw error;
    else policy.warn(ImportWarningKind.INCOMPLETE_RECORD, error, lineNumber);
  };

  const summary = await readLines(
    path,
    {
      line(text, lineNumber, terminated) {
        let value: unknown;
        try {
          value = JSON.parse(text);
        } catch (cause) {
          if (isBlank(text)) return;
          if (!terminated) return incomplete(lineNumber, cause);
          return policy.invalid(
            recordError(path, lineNumber, `not valid JSON (${messageOf(cause)})`, { cause }),
            lineNumber,
          );
        }
        policy.accept(value, lineNumber, onItem, true);
      },
      invalidUtf8(lineNumber, terminated) {
        if (!terminated) return incomplete(lineNumber);
        policy.invalid(recordError(path, lineNumber, "not valid UTF-8"), lineNumber);
      },
    },
    chunkBytes,
  );
  const dropped = tornLineNumber !== undefined;
  return {
    records: policy.records,
    lines: summary.lines,
    tornLine: dropped
      ? { line: tornLineNumber as number, bytes: summary.bytes - summary.terminatedBytes }
      : undefined,
    bytes: summary.bytes,
    validBytes: dropped ? summary.terminatedBytes : summary.bytes,
    endsWithNewline: dropped || summary.bytes === summary.terminatedBytes,
  };
}
