import { InvalidArgumentError } from "@orbiter/types";

/**
 * The `field` of the `InvalidArgumentError` that `fn` throws: the one assertion most refusal tests make.
 *
 * @throws the error itself when `fn` throws anything else (so the test shows it), or an Error when `fn` returns
 * @example
 * ```ts
 * expect(fieldOf(() => tournamentSelection(population, scores, { size: 0 }))).toBe("options.size");
 * ```
 */
export function fieldOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (InvalidArgumentError.isInstance(error)) return error.field;
    throw error;
  }
  throw new Error("expected an InvalidArgumentError, but the call returned");
}
