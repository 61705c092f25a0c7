/**
 * Formula-injection guard for CSV cells.
 *
 * Spreadsheet programs run a cell that starts with `=`, `+`, `-` or `@` (and, in some, tab or carriage return)
 * as a formula, so a trajectory that quotes an attacker's text could execute it when the CSV is opened. The
 * guard prefixes such a text cell with a single quote, which spreadsheets show as text. To make the escape
 * reversible, a cell that already starts with a single quote gets one more, and the empty text is written as
 * a lone `'` (so that an empty cell can mean "absent"). {@link unguardCsvCell} undoes it. Only text cells are
 * guarded: numbers are written as they are.
 */

/** Characters that make a spreadsheet read a cell as a formula when they come first. */
export const FORMULA_TRIGGERS: ReadonlyArray<string> = ["=", "+", "-", "@", "\t", "\r"];

const QUOTE = 0x27;

function needsGuard(text: string): boolean {
  const first = text.charCodeAt(0);
  // = + - @ tab CR, and the quote itself (for reversibility)
  return (
    first === 0x3d ||
    first === 0x2b ||
    first === 0x2d ||
    first === 0x40 ||
    first === 0x09 ||
    first === 0x0d ||
    first === QUOTE
  );
}

/**
 * Escapes a text cell for CSV: prefixes `'` when it starts with `= + - @`, tab, CR or `'`, or is empty.
 *
 * @example
 * ```ts
 * guardCsvCell("=HYPERLINK(...)"); // "'=HYPERLINK(...)"
 * unguardCsvCell(guardCsvCell("'quoted")); // "'quoted"
 * ```
 */
export function guardCsvCell(text: string): string {
  return text.length === 0 || needsGuard(text) ? "'" + text : text;
}

/** Reverses {@link guardCsvCell}: drops one leading `'`. */
export function unguardCsvCell(text: string): string {
  return text.charCodeAt(0) === QUOTE ? text.slice(1) : text;
}
