import { InvalidArgumentError, type SampleInput } from "@orbiter/types";

/**
 * Samples as the pipeline accepts them: an array of samples (ids and metadata may be omitted), or anything
 * with a `toSamples()` method, such as a `TrajectoryDataset` (state → input, action → output, reward → score).
 */
export type SampleSource = ReadonlyArray<SampleInput> | { toSamples(): ReadonlyArray<SampleInput> };

/** Unwraps a {@link SampleSource} into an array; `field` names the argument in errors. */
export function toSampleInputs(source: SampleSource, field: string): ReadonlyArray<SampleInput> {
  if (Array.isArray(source)) return source;
  if (source != null && typeof (source as { toSamples?: unknown }).toSamples === "function") {
    const samples = (source as { toSamples(): ReadonlyArray<SampleInput> }).toSamples();
    if (!Array.isArray(samples)) {
      throw new InvalidArgumentError(`${field}.toSamples() did not return an array`, { field });
    }
    return samples;
  }
  throw new InvalidArgumentError(`${field} must be an array of samples or have a toSamples() method`, {
    field,
    value: source,
  });
}
