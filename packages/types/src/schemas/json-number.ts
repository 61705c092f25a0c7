import { z } from "zod";

/**
 * A number as JSON can hold it: a finite number as it is, NaN and the infinities by name (`"NaN"`, `"Infinity"`,
 * `"-Infinity"`), since JSON has no literal for them and `JSON.stringify` writes them as `null`. Used by the
 * checkpoint formats, where a diverged loss or a score of -Infinity must come back as it was saved.
 */
export const JsonNumber = z.union([
  z.number(),
  z.literal("NaN"),
  z.literal("Infinity"),
  z.literal("-Infinity"),
]);

/** A number as JSON holds it (see the {@link JsonNumber} schema). */
export type JsonNumber = z.output<typeof JsonNumber>;

/**
 * Turns a number into JSON: finite numbers unchanged, NaN and ±Infinity as their names.
 *
 * @example
 * ```ts
 * JSON.stringify([1.5, Number.NaN, -Infinity].map(encodeJsonNumber)); // '[1.5,"NaN","-Infinity"]'
 * ```
 */
export function encodeJsonNumber(value: number): JsonNumber {
  if (Number.isFinite(value)) return value;
  if (Number.isNaN(value)) return "NaN";
  return value > 0 ? "Infinity" : "-Infinity";
}

/** Reads a number written by {@link encodeJsonNumber}: the inverse for every number, NaN and ±Infinity included. */
export function decodeJsonNumber(value: JsonNumber): number {
  switch (value) {
    case "NaN":
      return Number.NaN;
    case "Infinity":
      return Number.POSITIVE_INFINITY;
    case "-Infinity":
      return Number.NEGATIVE_INFINITY;
    default:
      return value;
  }
}
