import { InvalidArgumentError, type Sample } from "@orbiter/types";
import type { DedupKey } from "./synthesis-config.js";

/** The text a sample is compared on for near-duplicates. */
export function dedupText(sample: Sample, key: DedupKey): string {
  if (key === "input") return sample.input;
  if (key === "output") return sample.output;
  if (key === "both") return `${sample.input}\u0000${sample.output}`;
  const text = key(sample);
  if (typeof text !== "string") {
    throw new InvalidArgumentError(`The dedup key function returned ${typeof text}, expected a string`, {
      field: "dedupKey",
      value: text,
    });
  }
  return text;
}
