import { decodeJsonNumber, encodeJsonNumber, JsonNumber } from "@orbiter/types";
import type { CompletedTrainMetrics } from "../metrics/train-metrics.js";

/** A metric read back: a {@link JsonNumber} decoded, anything else as it is (for the metrics schema to refuse). */
function decodeNumber(value: unknown): unknown {
  const parsed = JsonNumber.safeParse(value);
  return parsed.success ? decodeJsonNumber(parsed.data) : value;
}

const NUMBER_FIELDS = ["loss", "accuracy", "reward"] as const;

/**
 * The metrics of a phase as JSON for a checkpoint manifest, with NaN and ±Infinity written by name so that a
 * diverged loss survives the round trip (`JSON.stringify` would turn it into `null`).
 */
export function encodeMetrics(metrics: CompletedTrainMetrics): Record<string, unknown> {
  const json: Record<string, unknown> = { ...metrics };
  for (const field of NUMBER_FIELDS) {
    const value = metrics[field];
    if (value !== undefined) json[field] = encodeJsonNumber(value);
  }
  json.extra = Object.fromEntries(
    Object.entries(metrics.extra).map(([key, value]) => [key, encodeJsonNumber(value)]),
  );
  return json;
}

/** Reverses {@link encodeMetrics}; anything that is not an object is returned as it is (for the schema to refuse). */
export function decodeMetrics(json: unknown): unknown {
  if (json === null || typeof json !== "object" || Array.isArray(json)) return json;
  const metrics: Record<string, unknown> = { ...json };
  for (const field of NUMBER_FIELDS) if (field in metrics) metrics[field] = decodeNumber(metrics[field]);
  const extra = metrics.extra;
  if (extra !== null && typeof extra === "object" && !Array.isArray(extra)) {
    metrics.extra = Object.fromEntries(
      Object.entries(extra).map(([key, value]) => [key, decodeNumber(value)]),
    );
  }
  return metrics;
}
