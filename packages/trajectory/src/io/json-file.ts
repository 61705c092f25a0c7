import { open } from "node:fs/promises";
import type { InvalidArgumentError, TrajectoryItem } from "@orbiter/types";
import { messageOf } from "@orbiter/types";
import { AtomicTextWriter } from "../internal/atomic-text-writer.js";
import { itemToJson } from "../internal/item-serializer.js";
import type { ExportSummary } from "./export-summary.js";
import { ImportWarningKind, ProblemPolicy, type ResolvedReadOptions, recordError } from "./import-options.js";

const CHUNK_BYTES = 1024 * 1024;

/**
 * Writes `items[0, count)` as one JSON array, one item per line (`[`, the items separated by `,\n`, `]`),
 * atomically and streamed.
 */
export async function writeJsonFile(
  path: string,
  items: ReadonlyArray<TrajectoryItem>,
  count = items.length,
): Promise<ExportSummary> {
  const bytes = await AtomicTextWriter.write(path, async (writer) => {
    writer.append(count === 0 ? "[" : "[\n");
    for (let index = 0; index < count; index++) {
      const separator = index + 1 < count ? ",\n" : "\n";
      if (writer.append(itemToJson(items[index] as TrajectoryItem), separator)) await writer.drain();
    }
    writer.append("]\n");
  });
  return { path, records: count, bytes };
}

/** Scanner states. */
const BEFORE_ARRAY = 0; // before the opening `[`
const FIRST_ELEMENT = 1; // after `[`: an element or `]`
const NEXT_ELEMENT = 2; // after `,`: an element
const IN_ELEMENT = 3; // inside an element
const AFTER_ARRAY = 4; // after the closing `]`: only white space
const AFTER_ELEMENT = 5; // after an element read whole: `,` or `]`

function isWhiteSpace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;
}

/**
 * Streams the elements of a JSON array file into `onItem` in bounded memory: a small scanner finds where each
 * element starts and ends (tracking nesting, strings and line numbers) and only that slice goes through
 * `JSON.parse`. So a file larger than the longest string V8 can hold still reads, and a malformed element is
 * reported with the line it starts on. Errors in the array's own structure (no `[`, a missing `,`, text after
 * `]`) always throw; a malformed element follows `options.onError`.
 */
export async function readJsonFile(
  path: string,
  options: ResolvedReadOptions,
  onItem: (item: TrajectoryItem) => void,
  chunkBytes = CHUNK_BYTES,
): Promise<{ records: number }> {
  const policy = new ProblemPolicy(path, options);
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const handle = await open(path, "r");
  const buffer = Buffer.allocUnsafe(chunkBytes);

  let state = BEFORE_ARRAY;
  let line = 1;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let elementLine = 0;
  /** Decoded text not consumed yet. */
  let text = "";
  /** Where the current element starts in `text`. */
  let elementStart = 0;
  /** Where scanning resumes in `text`. */
  let position = 0;

  const structural = (message: string): InvalidArgumentError =>
    recordError(path, line, `not a JSON array of trajectory items: ${message}`);

  const finishElement = (end: number): void => {
    let value: unknown;
    try {
      value = JSON.parse(text.slice(elementStart, end));
    } catch (cause) {
      policy.invalid(
        recordError(path, elementLine, `not valid JSON (${messageOf(cause)})`, { cause }),
        elementLine,
      );
      return;
    }
    policy.accept(value, elementLine, onItem, true);
  };

  /**
   * Reads an element that sits alone on its line (as `exportJson` writes them: `{...},`) with one
   * `JSON.parse`, without scanning it. Returns the index after the line, or -1 when the line is not such an
   * element (the scanner then reads it character by character).
   */
  const readWholeLine = (start: number): number => {
    const lineEnd = text.indexOf("\n", start);
    if (lineEnd === -1) return -1;
    let end = lineEnd;
    while (end > start && isWhiteSpace(text.charCodeAt(end - 1))) end--;
    const comma = text.charCodeAt(end - 1) === 0x2c;
    if (comma) {
      end--;
      while (end > start && isWhiteSpace(text.charCodeAt(end - 1))) end--;
    }
    if (end - start < 2 || text.charCodeAt(end - 1) !== 0x7d) return -1;
    let value: unknown;
    try {
      // A complete JSON object cannot be followed by more of itself: if this parses, it is the whole element.
      value = JSON.parse(text.slice(start, end));
    } catch {
      return -1;
    }
    elementLine = line;
    policy.accept(value, elementLine, onItem, true);
    state = comma ? NEXT_ELEMENT : AFTER_ELEMENT;
    line++;
    return lineEnd + 1;
  };

  /** Scans `text` from `position`, then keeps only the unfinished element (if any). */
  const scan = (): void => {
    const length = text.length;
    const next = (char: string, from: number): number => {
      const found = text.indexOf(char, from);
      return found === -1 ? length : found;
    };
    // Positions of the next quote, backslash and line break (or `length`), found with the native indexOf and
    // kept while still ahead: string contents, the bulk of the text, are skipped without a per-character loop.
    let nextQuote = -1;
    let nextBackslash = -1;
    let nextNewline = -1;
    let index = position;
    while (index < length) {
      if (state === IN_ELEMENT && inString) {
        if (escaped) {
          escaped = false;
          index++;
          continue;
        }
        if (nextQuote < index) nextQuote = next('"', index);
        if (nextBackslash < index) nextBackslash = next("\\", index);
        const stop = Math.min(nextQuote, nextBackslash);
        // A raw line break inside a string is invalid JSON, but it still moves the line count on.
        if (nextNewline < index) nextNewline = next("\n", index);
        while (nextNewline < stop) {
          line++;
          nextNewline = next("\n", nextNewline + 1);
        }
        if (stop === length) {
          index = length;
          break;
        }
        if (stop === nextBackslash) escaped = true;
        else inString = false;
        index = stop + 1;
        continue;
      }
      const code = text.charCodeAt(index);
      if (state === IN_ELEMENT) {
        if (code === 0x22) inString = true;
        else if (code === 0x7b || code === 0x5b) depth++;
        else if (code === 0x7d || code === 0x5d) {
          if (depth > 0) depth--;
          else if (code === 0x5d) {
            finishElement(index);
            state = AFTER_ARRAY;
          } else throw structural("unexpected '}'");
        } else if (code === 0x2c && depth === 0) {
          finishElement(index);
          state = NEXT_ELEMENT;
        } else if (code === 0x0a) line++;
        index++;
        continue;
      }
      if (isWhiteSpace(code)) {
        if (code === 0x0a) line++;
        index++;
        continue;
      }
      if (state === BEFORE_ARRAY) {
        if (code !== 0x5b) throw structural(`expected '[' but found ${JSON.stringify(text[index])}`);
        state = FIRST_ELEMENT;
      } else if (state === AFTER_ARRAY) {
        throw structural(`unexpected ${JSON.stringify(text[index])} after the closing ']'`);
      } else if (state === AFTER_ELEMENT) {
        if (code === 0x2c) state = NEXT_ELEMENT;
        else if (code === 0x5d) state = AFTER_ARRAY;
        else throw structural(`expected ',' or ']' but found ${JSON.stringify(text[index])}`);
      } else if (code === 0x5d) {
        if (state === NEXT_ELEMENT) throw structural("a ',' is followed by ']'");
        state = AFTER_ARRAY;
      } else if (code === 0x2c) {
        throw structural("unexpected ','");
      } else {
        if (code === 0x7b) {
          const next = readWholeLine(index);
          if (next !== -1) {
            index = next;
            continue;
          }
        }
        state = IN_ELEMENT;
        depth = code === 0x7b || code === 0x5b ? 1 : 0;
        inString = code === 0x22;
        escaped = false;
        elementLine = line;
        elementStart = index;
      }
      index++;
    }
    if (state === IN_ELEMENT) {
      text = text.slice(elementStart);
      position = index - elementStart;
      elementStart = 0;
    } else {
      text = "";
      position = 0;
    }
  };

  try {
    let offset = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, chunkBytes, offset);
      if (bytesRead === 0) break;
      offset += bytesRead;
      try {
        text += decoder.decode(buffer.subarray(0, bytesRead), { stream: true });
      } catch (cause) {
        throw recordError(path, line, "not valid UTF-8", { cause });
      }
      scan();
    }
    try {
      text += decoder.decode();
    } catch (cause) {
      throw recordError(path, line, "not valid UTF-8", { cause });
    }
    scan();
  } finally {
    await handle.close();
  }
  if (state === IN_ELEMENT) {
    const error = recordError(path, elementLine, "the file ends in the middle of a record");
    if (options.onError === "throw") throw error;
    policy.warn(ImportWarningKind.INCOMPLETE_RECORD, error, elementLine);
  } else if (state !== AFTER_ARRAY) {
    throw structural(state === BEFORE_ARRAY ? "the file is empty" : "the closing ']' is missing");
  }
  return { records: policy.records };
}
