import { InvalidArgumentError } from "@orbiter/types";

/**
 * Checks a count or a position argument: a safe integer ≥ 0.
 *
 * @throws InvalidArgumentError naming `field`, with the value
 */
export function checkNonNegativeInteger(value: number, field: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new InvalidArgumentError(`${field} must be a non-negative integer, got ${value}`, { field, value });
  }
}
