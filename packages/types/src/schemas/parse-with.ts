import type { z } from "zod";
import { InvalidArgumentError } from "../errors/error-kinds.js";

/** Where a value being parsed came from, to make error messages point at it. */
export interface ParseContext {
  /** What is being parsed, for the message: `"trajectory item"`, `"SynthesisConfig"`. */
  what: string;
  /** Prefix for the field path, e.g. `"config"` gives `config.epochs`. */
  path?: string;
  /** 1-based line of the source file the value came from. */
  line?: number;
}

/** Formats a zod path as `a.b[2].c`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out;
}

/** Turns a ZodError into an {@link InvalidArgumentError} that names the first offending field. */
export function toInvalidArgumentError(error: z.ZodError, context: ParseContext): InvalidArgumentError {
  const issue = error.issues[0];
  const issuePath = issue ? [...issue.path] : [];
  // An unknown key is reported on the object holding it: name the key itself.
  if (issue?.code === "unrecognized_keys" && issue.keys.length > 0) issuePath.push(issue.keys[0] as string);
  const inner = formatPath(issuePath);
  const separator = inner.startsWith("[") ? "" : ".";
  const field = context.path ? (inner ? `${context.path}${separator}${inner}` : context.path) : inner;
  const where = context.line === undefined ? "" : ` at line ${context.line}`;
  const detail = issue ? issue.message : "invalid value";
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more issue(s))` : "";
  const message = `Invalid ${context.what}${where}: ${field === "" ? "value" : `"${field}"`}: ${detail}${more}`;
  return new InvalidArgumentError(message, {
    field,
    cause: error,
    ...(context.line === undefined ? {} : { line: context.line }),
  });
}

/**
 * Parses `input` with `schema`; on failure throws an {@link InvalidArgumentError} naming the field, with the
 * ZodError as `cause`. This is how every public boundary of orbiter-train checks its input.
 */
export function parseWith<S extends z.ZodType>(
  schema: S,
  input: unknown,
  context: ParseContext,
): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw toInvalidArgumentError(result.error, context);
}

/**
 * Refuses (with an {@link InvalidArgumentError} on the field `options`, carrying the value) an options argument
 * that is not an object: `null`, an array or a primitive. The check every options-taking boundary does before
 * its schema names the keys.
 *
 * @param what names the argument in the message, which reads `<what> must be an object`
 */
export function checkOptionsObject(options: unknown, what: string): asserts options is object {
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw new InvalidArgumentError(`${what} must be an object`, { field: "options", value: options });
  }
}
