import { InvalidArgumentError } from "@orbiter/types";

/**
 * Test helper: the `field` of the `InvalidArgumentError` that `fn` throws (`"not an InvalidArgumentError"` for
 * any other error), or `undefined` when it returns.
 */
export function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return InvalidArgumentError.isInstance(error) ? error.field : "not an InvalidArgumentError";
  }
  return undefined;
}
