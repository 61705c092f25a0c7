import { type JsonObject, type ParseContext, parseWith, Sample } from "@orbiter/types";

const SAMPLE_KEYS = new Set(["id", "input", "output", "score", "metadata"]);

/** True for a JSON value: null, boolean, finite number, string, or arrays / plain objects of them. */
function isJson(value: unknown, depth: number): boolean {
  if (value === null) return true;
  switch (typeof value) {
    case "string":
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(value);
    case "object": {
      if (depth > 64) return false;
      if (Array.isArray(value)) {
        for (const item of value) if (!isJson(item, depth + 1)) return false;
        return true;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return false;
      for (const key in value) {
        if (!isJson((value as Record<string, unknown>)[key], depth + 1)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

/**
 * Validates a sample input and returns a {@link Sample} (a fresh object; `metadata` copied one level deep),
 * with `id` filled from `defaultId` when missing. Well-formed input takes a fast path; anything else goes
 * through the zod schema, whose `InvalidArgumentError` names the offending field.
 */
export function parseSample(input: unknown, defaultId: () => string, context: ParseContext): Sample {
  if (input !== null && typeof input === "object" && !Array.isArray(input)) {
    const candidate = input as Record<string, unknown>;
    let known = true;
    for (const key in candidate) {
      if (!SAMPLE_KEYS.has(key)) {
        known = false;
        break;
      }
    }
    const { input: text, output, score, metadata } = candidate;
    const id = candidate.id === undefined ? defaultId() : candidate.id;
    if (
      known &&
      typeof id === "string" &&
      id.length > 0 &&
      typeof text === "string" &&
      typeof output === "string" &&
      (score === undefined || (typeof score === "number" && Number.isFinite(score))) &&
      (metadata === undefined ||
        (typeof metadata === "object" &&
          metadata !== null &&
          !Array.isArray(metadata) &&
          isJson(metadata, 0)))
    ) {
      const sample: Sample = {
        id,
        input: text,
        output,
        metadata: metadata === undefined ? {} : { ...(metadata as JsonObject) },
      };
      if (score !== undefined) sample.score = score as number;
      return sample;
    }
    return parseWith(Sample, { ...candidate, id }, context);
  }
  return parseWith(Sample, input, context);
}
