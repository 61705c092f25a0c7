/**
 * Bookkeeping for `-0` inside `metadata`.
 *
 * `JSON.stringify(-0)` prints `0`, yet `-0` is valid JSON text and `JSON.parse("-0")` gives `-0` back. To make
 * export → import bit-exact, the serialiser writes metadata through a slower sign-preserving path, but only for
 * the items whose metadata really holds a negative zero; the validator records those here while it walks them.
 */
const itemsWithNegativeZeroMetadata = new WeakSet<object>();

/** True when `value` is `-0`. */
export function isNegativeZero(value: number): boolean {
  return value === 0 && 1 / value < 0;
}

/** Records that the metadata of `item` contains a `-0` somewhere. */
export function markNegativeZeroMetadata(item: object): void {
  itemsWithNegativeZeroMetadata.add(item);
}

/** Whether the metadata of `item` was recorded as containing a `-0`. */
export function hasNegativeZeroMetadata(item: object): boolean {
  return itemsWithNegativeZeroMetadata.has(item);
}

/** Walks a JSON value and reports whether any number in it is `-0`. */
export function containsNegativeZero(value: unknown): boolean {
  if (typeof value === "number") return isNegativeZero(value);
  if (typeof value !== "object" || value === null) return false;
  if (Array.isArray(value)) {
    for (const element of value) if (containsNegativeZero(element)) return true;
    return false;
  }
  for (const key of Object.keys(value)) {
    if (containsNegativeZero((value as Record<string, unknown>)[key])) return true;
  }
  return false;
}
