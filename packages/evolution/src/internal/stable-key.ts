/**
 * A stable text identity of a JSON-like value: object keys sorted, so `{ a: 1, b: 2 }` and `{ b: 2, a: 1 }`
 * agree. Returns `undefined` for values that are not JSON-like (functions, symbols, bigints, cycles, class
 * instances other than arrays and plain objects); such candidates are not cached.
 */
export function stableKey(value: unknown): string | undefined {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "boolean":
      return value ? "true" : "false";
    case "number":
      // NaN and ±Infinity unquoted: no finite number or (quoted) string has these keys.
      return String(value);
    case "object":
      if (value === null) return "null";
      return objectKey(value, new Set());
    default:
      return undefined;
  }
}

function objectKey(value: object, seen: Set<object>): string | undefined {
  if (seen.has(value)) return undefined;
  seen.add(value);
  let out: string | undefined;
  if (Array.isArray(value)) {
    const parts: string[] = [];
    for (const item of value) {
      const part = item !== null && typeof item === "object" ? objectKey(item, seen) : stableKey(item);
      if (part === undefined) return undefined;
      parts.push(part);
    }
    out = `[${parts.join(",")}]`;
  } else {
    const prototype = Object.getPrototypeOf(value);
    if (prototype !== Object.prototype && prototype !== null) return undefined;
    const record = value as Record<string, unknown>;
    const parts: string[] = [];
    for (const name of Object.keys(record).sort()) {
      const item = record[name];
      if (item === undefined) continue;
      const part = item !== null && typeof item === "object" ? objectKey(item, seen) : stableKey(item);
      if (part === undefined) return undefined;
      parts.push(`${JSON.stringify(name)}:${part}`);
    }
    out = `{${parts.join(",")}}`;
  }
  seen.delete(value);
  return out;
}
