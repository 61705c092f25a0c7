import { isUtf8 } from "node:buffer";
import { open } from "node:fs/promises";

const CHUNK_BYTES = 1024 * 1024;
const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 13;

/** Receives the lines of a file, in order, one synchronous call per line. */
export interface LineHandler {
  /**
   * One line without its line break (`\n` or `\r\n`). `terminated` is false only for a last line that has no
   * line break after it.
   */
  line(text: string, lineNumber: number, terminated: boolean): void;
  /** A line whose bytes are not valid UTF-8. */
  invalidUtf8(lineNumber: number, terminated: boolean): void;
}

/** What {@link readLines} saw. */
export interface LineSummary {
  /** Number of lines, the last one included even without a line break. */
  lines: number;
  /** Size of the file in bytes. */
  bytes: number;
  /** Bytes up to and including the last line break: the file without an unterminated last line. */
  terminatedBytes: number;
}

function stripCarriageReturn(raw: string): string {
  return raw.charCodeAt(raw.length - 1) === CARRIAGE_RETURN ? raw.slice(0, -1) : raw;
}

/**
 * Streams the lines of a UTF-8 file through `handler` in bounded memory (1 MiB chunks; a longer line grows the
 * buffer to fit it). Lines are split on the byte `\n`, which never occurs inside a multi-byte UTF-8 sequence,
 * so a chunk of whole lines is validated and decoded at once. A leading byte-order mark is skipped.
 */
export async function readLines(
  path: string,
  handler: LineHandler,
  chunkBytes = CHUNK_BYTES,
): Promise<LineSummary> {
  const handle = await open(path, "r");
  try {
    let buffer = Buffer.allocUnsafe(Math.max(chunkBytes, 3));
    let lineNumber = 0;

    const head = await handle.read(buffer, 0, 3, 0);
    const hasBom = head.bytesRead === 3 && buffer[0] === 0xef && buffer[1] === 0xbb && buffer[2] === 0xbf;
    /** File offset of the next read. */
    let position = hasBom ? 3 : 0;
    /** File offset of `buffer[0]`. */
    let base = position;
    let filled = 0;

    /** Emits the lines of buffer[0, end), each followed by "\n" (the last "\n" sits at `end`). */
    const emitLines = (end: number): void => {
      const bytes = buffer.subarray(0, end);
      if (isUtf8(bytes)) {
        for (const raw of bytes.toString("utf8").split("\n")) {
          handler.line(stripCarriageReturn(raw), ++lineNumber, true);
        }
        return;
      }
      let lineStart = 0;
      while (lineStart <= end) {
        let lineEnd = buffer.indexOf(NEWLINE, lineStart);
        if (lineEnd === -1 || lineEnd > end) lineEnd = end;
        const lineBytes = buffer.subarray(lineStart, lineEnd);
        if (isUtf8(lineBytes))
          handler.line(stripCarriageReturn(lineBytes.toString("utf8")), ++lineNumber, true);
        else handler.invalidUtf8(++lineNumber, true);
        lineStart = lineEnd + 1;
      }
    };

    for (;;) {
      if (filled === buffer.length) {
        const grown = Buffer.allocUnsafe(buffer.length * 2);
        buffer.copy(grown, 0, 0, filled);
        buffer = grown;
      }
      const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, position);
      if (bytesRead === 0) break;
      position += bytesRead;
      const searchFrom = filled;
      filled += bytesRead;
      const lastNewline = buffer.lastIndexOf(NEWLINE, filled - 1);
      if (lastNewline < searchFrom) continue;
      emitLines(lastNewline);
      buffer.copy(buffer, 0, lastNewline + 1, filled);
      filled -= lastNewline + 1;
      base += lastNewline + 1;
    }

    const terminatedBytes = base;
    if (filled > 0) {
      const tail = buffer.subarray(0, filled);
      if (isUtf8(tail)) handler.line(stripCarriageReturn(tail.toString("utf8")), ++lineNumber, false);
      else handler.invalidUtf8(++lineNumber, false);
    }
    return { lines: lineNumber, bytes: base + filled, terminatedBytes };
  } finally {
    await handle.close();
  }
}
