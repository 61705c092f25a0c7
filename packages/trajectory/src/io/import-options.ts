import { functionSchema, InvalidArgumentError, parseWith, type TrajectoryItem } from "@orbiter/types";
import { z } from "zod";
import { validateItem } from "../internal/item-validator.js";

/** What went wrong with one record of an imported file. */
export const ImportWarningKind = {
  /** The record is not valid JSON/CSV or not a valid trajectory item. */
  INVALID_RECORD: "invalid-record",
  /** The file ends in the middle of a record, as a torn write leaves it. */
  INCOMPLETE_RECORD: "incomplete-record",
} as const;
/** What went wrong with one record of an imported file. */
export type ImportWarningKind = (typeof ImportWarningKind)[keyof typeof ImportWarningKind];

/** A record that was skipped (or dropped, for a torn last line) while importing a file. */
export interface ImportWarning {
  /** Why the record was skipped. */
  kind: ImportWarningKind;
  /** The file being read. */
  path: string;
  /** 1-based line where the record starts. */
  line: number;
  /** Human-readable explanation, naming the line and the field when there is one. */
  message: string;
  /** The error the record would have raised with `onError: "throw"`. */
  error: InvalidArgumentError;
}

/** Options of the file readers (`TrajectoryDataset.fromJson`, `fromJsonl`, `fromCsv`). */
export const ReadOptions = z.strictObject({
  /**
   * What to do with a malformed record: `"throw"` an `InvalidArgumentError` naming its line, or `"skip"` it and
   * report it through `onWarning`. A structural error of the file as a whole (a JSON file that is not an
   * array, a CSV header with unknown columns) always throws.
   * @default "throw"
   */
  onError: z.enum(["throw", "skip"]).default("throw"),
  /**
   * Called once per skipped record. @default emits a Node.js process warning (`process.emitWarning`), so a
   * skipped record is never silent.
   */
  onWarning: functionSchema<(warning: ImportWarning) => void>().optional(),
});
/** Options of the file readers, as accepted. */
export type ReadOptionsInput = z.input<typeof ReadOptions>;

/** Parsed {@link ReadOptions}. */
export interface ResolvedReadOptions {
  onError: "throw" | "skip";
  onWarning: (warning: ImportWarning) => void;
}

function emitProcessWarning(warning: ImportWarning): void {
  process.emitWarning(warning.message, { code: "ORBITER_TRAJECTORY_IMPORT", type: "OrbiterImportWarning" });
}

/** Validates reader options at the public boundary. */
export function resolveReadOptions(input: unknown, what: string): ResolvedReadOptions {
  const options = parseWith(ReadOptions, input ?? {}, { what, path: "options" });
  return { onError: options.onError, onWarning: options.onWarning ?? emitProcessWarning };
}

/** Checks a file path argument. */
export function checkPath(path: unknown, field = "path"): string {
  if (typeof path !== "string" || path.length === 0) {
    throw new InvalidArgumentError(
      `"${field}" must be a non-empty string, got ${JSON.stringify(path) ?? path}`,
      {
        field,
        value: path,
      },
    );
  }
  return path;
}

/**
 * Takes the records of one imported file: counts the valid ones and applies the `onError` policy to the others
 * (throws the error, or reports it as a warning).
 */
export class ProblemPolicy {
  readonly path: string;
  readonly options: ResolvedReadOptions;
  /** Every record skipped so far. */
  readonly warnings: ImportWarning[] = [];
  /** Records accepted so far. */
  records = 0;
  readonly #what: string;

  constructor(path: string, options: ResolvedReadOptions) {
    this.path = path;
    this.options = options;
    this.#what = `trajectory item in ${path}`;
  }

  /**
   * Validates one record as a trajectory item and passes it to `onItem`, counting it; an invalid record goes to
   * {@link ProblemPolicy.invalid} with its line. `adopt`: the value was parsed for this call alone, so a canonical
   * one may become the item itself.
   */
  accept(value: unknown, line: number, onItem: (item: TrajectoryItem) => void, adopt = false): void {
    let item: TrajectoryItem;
    try {
      item = validateItem(value, { what: this.#what, line }, adopt);
    } catch (error) {
      if (!InvalidArgumentError.isInstance(error)) throw error;
      this.invalid(error, line);
      return;
    }
    this.records++;
    onItem(item);
  }

  /** Throws `error` under `onError: "throw"`; otherwise records and reports it. */
  invalid(error: InvalidArgumentError, line: number): void {
    if (this.options.onError === "throw") throw error;
    this.warn(ImportWarningKind.INVALID_RECORD, error, line);
  }

  /** Reports a problem that is skipped whatever `onError` says (a torn last line during recovery). */
  warn(kind: ImportWarningKind, error: InvalidArgumentError, line: number): void {
    const warning: ImportWarning = { kind, path: this.path, line, message: error.message, error };
    this.warnings.push(warning);
    this.options.onWarning(warning);
  }
}

/** An `InvalidArgumentError` for a record of a file, naming the file and the line. */
export function recordError(
  path: string,
  line: number,
  message: string,
  options: { field?: string; cause?: unknown } = {},
): InvalidArgumentError {
  return new InvalidArgumentError(`${path}:${line}: ${message}`, {
    line,
    field: options.field ?? "",
    ...(options.cause === undefined ? {} : { cause: options.cause }),
  });
}
