import { InvalidArgumentError, parseWith, Sample, type SampleInput } from "@orbiter/types";

/**
 * Anything that can list its samples, such as a `TrajectoryDataset` (state → input, action → output,
 * reward → score). Typed structurally so that `@orbiter/verl` does not depend on `@orbiter/trajectory`.
 */
export interface SampleProvider {
  /** The samples to train on. */
  toSamples(): ReadonlyArray<SampleInput> | Promise<ReadonlyArray<SampleInput>>;
}

/**
 * What {@link VeRLTrainer.train} and `evaluate` accept: samples (`input` is the prompt, `output` the reference
 * answer, or `""` when there is none), bare prompt strings, or a {@link SampleProvider}.
 */
export type VeRLDatasetInput = ReadonlyArray<SampleInput> | ReadonlyArray<string> | SampleProvider;

function isSampleProvider(value: unknown): value is SampleProvider {
  return (
    value !== null &&
    typeof value === "object" &&
    typeof (value as { toSamples?: unknown }).toSamples === "function"
  );
}

/**
 * Turns a {@link VeRLDatasetInput} into validated samples. A bare string becomes `{ input: prompt, output: "" }`
 * with a stable id (`prompt-<index>`).
 *
 * @param field name of the argument, for error messages @default "dataset"
 * @throws InvalidArgumentError naming the bad element (`dataset[3].input`)
 */
export async function resolveSamples(input: unknown, field = "dataset"): Promise<Sample[]> {
  let items: ReadonlyArray<unknown>;
  if (Array.isArray(input)) items = input;
  else if (isSampleProvider(input)) {
    const listed = await input.toSamples();
    if (!Array.isArray(listed)) {
      throw new InvalidArgumentError(`${field}.toSamples() must return an array of samples`, { field });
    }
    items = listed;
  } else {
    throw new InvalidArgumentError(
      `${field} must be an array of samples, an array of prompt strings, or an object with toSamples()`,
      { field, value: input },
    );
  }
  return items.map((item, index) =>
    typeof item === "string"
      ? { id: `prompt-${index}`, input: item, output: "", metadata: {} }
      : parseWith(Sample, item, { what: "sample", path: `${field}[${index}]` }),
  );
}
