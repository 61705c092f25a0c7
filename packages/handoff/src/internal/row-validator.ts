import { InvalidArgumentError, isWellFormed, parseWith } from "@orbiter/types";
import { DATASET_ROW_SCHEMAS, type DatasetFormat, type DatasetRow } from "../formats/dataset-format.js";
import { EXTRA_INFO_KEY, type VerlRow } from "../formats/verl-row.js";

/** Where the rows come from, for messages: `rows` (arguments) or a file and its lines. */
export interface RowOrigin {
  /** Path prefix of the offending field, e.g. `rows`. */
  path: string;
  /** The file being read, if any. */
  file?: string;
}

function findMalformedString(value: unknown, path: string): string | undefined {
  if (typeof value === "string") return isWellFormed(value) ? undefined : path;
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      const found = findMalformedString(value[index], `${path}[${index}]`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (value !== null && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      const found = findMalformedString(key, `${path}.${key}`) ?? findMalformedString(item, `${path}.${key}`);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/**
 * Validates rows of one format, one at a time, in order: each against the format's schema, every string well
 * formed (no lone surrogate, so UTF-8 keeps it exactly), and, for verl, the same `extra_info` fields as the first
 * row. Failures are `InvalidArgumentError`s naming the field (`rows[3].extra_info.level`) and the line, if any.
 */
export class RowValidator<F extends DatasetFormat> {
  readonly format: F;
  #origin: RowOrigin;
  #extraInfoKeys: string | undefined;
  #extraInfoOrder: string[] = [];

  constructor(format: F, origin: RowOrigin) {
    this.format = format;
    this.#origin = origin;
  }

  /** Checks row `index` (0-based); `line` is its 1-based line in a file. Returns the parsed row. */
  check(row: unknown, index: number, line?: number): DatasetRow<F> {
    const path = `${this.#origin.path}[${index}]`;
    const where = this.#origin.file === undefined ? "" : ` in ${this.#origin.file}`;
    const parsed = parseWith(DATASET_ROW_SCHEMAS[this.format], row, {
      what: `${this.format} row${where}`,
      path,
      ...(line === undefined ? {} : { line }),
    }) as DatasetRow<F>;
    const malformed = findMalformedString(parsed, path);
    if (malformed !== undefined) {
      throw new InvalidArgumentError(
        `Invalid ${this.format} row${where}: "${malformed}" holds a lone UTF-16 surrogate, which no UTF-8 file can store`,
        { field: malformed, ...(line === undefined ? {} : { line }) },
      );
    }
    if (this.format === "verl") this.#checkExtraInfo(parsed as VerlRow, path, line);
    return parsed;
  }

  #checkExtraInfo(row: VerlRow, path: string, line: number | undefined): void {
    const keys = Object.keys(row.extra_info);
    const badKey = keys.find((key) => !EXTRA_INFO_KEY.test(key));
    if (badKey !== undefined) {
      throw new InvalidArgumentError(
        `Invalid verl row: extra_info field names are identifiers (letters, digits, _), got ${JSON.stringify(badKey)}`,
        { field: `${path}.extra_info.${badKey}`, ...(line === undefined ? {} : { line }) },
      );
    }
    const signature = JSON.stringify([...keys].sort());
    if (this.#extraInfoKeys === undefined) {
      this.#extraInfoKeys = signature;
      this.#extraInfoOrder = keys;
      return;
    }
    if (signature === this.#extraInfoKeys) return;
    const expected = this.#extraInfoOrder;
    const extra = keys.find((key) => !expected.includes(key));
    const missing = expected.find((key) => !keys.includes(key));
    const field = `${path}.extra_info.${extra ?? missing}`;
    throw new InvalidArgumentError(
      `Invalid verl row: every row must have the same extra_info fields as the first (${expected.join(", ")}); "${field}" is ${extra === undefined ? "missing" : "extra"}`,
      { field, ...(line === undefined ? {} : { line }) },
    );
  }
}
