/** `String.prototype.isWellFormed` (Node 20+), typed here because the project's `lib` predates it. */
const nativeIsWellFormed = (String.prototype as { isWellFormed?: (this: string) => boolean }).isWellFormed;
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * True when `text` holds no lone surrogate, i.e. it can be encoded as UTF-8 without loss (a writer of JSONL,
 * CSV or Parquet checks this before it writes a string).
 */
export function isWellFormed(text: string): boolean {
  return nativeIsWellFormed ? nativeIsWellFormed.call(text) : !loneSurrogate.test(text);
}

/**
 * `text` with every lone surrogate replaced by U+FFFD, as a UTF-8 encoder would write it.
 *
 * @example
 * ```ts
 * toWellFormed("a\uD800b"); // "a\uFFFDb"
 * ```
 */
export function toWellFormed(text: string): string {
  return isWellFormed(text) ? text : Buffer.from(text, "utf8").toString("utf8");
}
