import { z } from "zod";

/**
 * A zod schema for an option whose value must be a function. zod cannot see a function's parameters, so the
 * check is `typeof value === "function"` and the type parameter states the signature the option promises.
 *
 * @param message the message when the value is not a function, best naming the expected signature
 * @default message zod's own ("Invalid input")
 * @example
 * ```ts
 * const RunOptions = z.strictObject({
 *   onProgress: functionSchema<(event: Progress) => void>("expected a function (event) => void").optional(),
 * });
 * ```
 */
export function functionSchema<F>(message?: string): z.ZodCustom<F, F> {
  return z.custom<F>((value) => typeof value === "function", message);
}
