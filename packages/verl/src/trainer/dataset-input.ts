import { listSamples, parseWith, Sample, type SampleInput, type SampleProvider } from "@orbiter/types";

export type { SampleProvider };

/**
 * What {@link VeRLTrainer.train} and `evaluate` accept: samples (`input` is the prompt, `output` the reference
 * answer, or `""` when there is none), bare prompt strings, or a {@link SampleProvider}.
 */
export type VeRLDatasetInput = ReadonlyArray<SampleInput> | ReadonlyArray<string> | SampleProvider;

/**
 * Turns a {@link VeRLDatasetInput} into validated samples. A bare string becomes `{ input: prompt, output: "" }`
 * with a stable id (`prompt-<index>`).
 *
 * @param field name of the argument, for error messages @default "dataset"
 * @throws InvalidArgumentError naming the bad element (`dataset[3].input`)
 */
export async function resolveSamples(input: unknown, field = "dataset"): Promise<Sample[]> {
  const items = await listSamples(input, field, "an array of samples, an array of prompt strings,");
  return items.map((item, index) =>
    typeof item === "string"
      ? { id: `prompt-${index}`, input: item, output: "", metadata: {} }
      : parseWith(Sample, item, { what: "sample", path: `${field}[${index}]` }),
  );
}
