import { InvalidArgumentError } from "@orbiter/types";

/**
 * Checks that `data` is an array whose elements have string `fields`, throwing an `InvalidArgumentError`
 * naming the first bad element (`data[3].input`).
 */
export function checkSamples(data: unknown, name: string, fields: ReadonlyArray<"input" | "output">): void {
  if (!Array.isArray(data)) {
    throw new InvalidArgumentError(`${name} must be an array of samples`, { field: name, value: data });
  }
  for (let i = 0; i < data.length; i++) {
    const item = data[i] as Record<string, unknown> | null;
    if (item === null || typeof item !== "object") {
      throw new InvalidArgumentError(`${name}[${i}] must be a sample object`, { field: `${name}[${i}]` });
    }
    for (const field of fields) {
      if (typeof item[field] !== "string") {
        throw new InvalidArgumentError(`${name}[${i}].${field} must be a string`, {
          field: `${name}[${i}].${field}`,
          value: item[field],
        });
      }
    }
  }
}
