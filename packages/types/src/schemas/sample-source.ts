import { InvalidArgumentError } from "../errors/error-kinds.js";
import type { SampleInput } from "./sample.js";

/**
 * Anything that can list its samples, such as a `TrajectoryDataset` (state → input, action → output,
 * reward → score). Structural, so that no package needs `@orbiter/trajectory` to accept one.
 */
export interface SampleProvider {
  /** The samples, or a promise of them. */
  toSamples(): ReadonlyArray<SampleInput> | Promise<ReadonlyArray<SampleInput>>;
}

/** Samples as the pipelines and trainers accept them: an array (ids and metadata may be omitted), or a provider. */
export type SampleSource = ReadonlyArray<SampleInput> | SampleProvider;

/** Whether `value` has a `toSamples()` method. */
export function isSampleProvider(value: unknown): value is SampleProvider {
  return (
    value !== null &&
    typeof value === "object" &&
    typeof (value as { toSamples?: unknown }).toSamples === "function"
  );
}

/**
 * The elements of a sample source, not yet validated: the array itself, or what its `toSamples()` returns.
 *
 * @param expected what the argument may be, for the error message (`"an array of samples"`)
 * @throws InvalidArgumentError naming `field` when `source` is neither, or `toSamples()` returns no array
 *
 * @example
 * ```ts
 * const items = await listSamples(dataset, "seedData", "an array of samples");
 * ```
 */
export async function listSamples(
  source: unknown,
  field: string,
  expected = "an array of samples",
): Promise<ReadonlyArray<unknown>> {
  if (Array.isArray(source)) return source;
  if (isSampleProvider(source)) {
    const listed: unknown = await source.toSamples();
    if (!Array.isArray(listed)) {
      throw new InvalidArgumentError(`${field}.toSamples() did not return an array of samples`, { field });
    }
    return listed;
  }
  throw new InvalidArgumentError(`${field} must be ${expected} or have a toSamples() method`, {
    field,
    value: source,
  });
}
