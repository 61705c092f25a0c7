/**
 * Bookkeeping for `-0` in items.
 *
 * `JSON.stringify(-0)` prints `0`, yet `-0` is valid JSON text and `JSON.parse("-0")` gives `-0` back. To make
 * export → import bit-exact, the serialiser writes an item through a slower sign-preserving path, but only when
 * it really holds a negative zero (in `reward`, `timestamp`, `step` or anywhere in `metadata`); the validator
 * records those items here while it walks them, so the common case stays a single native `JSON.stringify`.
 */
const itemsWithNegativeZero = new WeakSet<object>();

/** True when `value` is `-0`. */
export function isNegativeZero(value: number): boolean {
  return value === 0 && 1 / value < 0;
}

/** Records that `item` holds a `-0` somewhere. */
export function markNegativeZero(item: object): void {
  itemsWithNegativeZero.add(item);
}

/** Whether `item` was recorded as holding a `-0`. */
export function hasNegativeZero(item: object): boolean {
  return itemsWithNegativeZero.has(item);
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
