import type { Sample } from "@orbiter/types";
import { augmentedMetadata } from "../internal/augmentation-metadata.js";
import { checkSamples } from "../internal/check-samples.js";
import type { SampleLike } from "../internal/sample-like.js";

/**
 * Copies of samples with input and output exchanged, for reverse training (answer → question). Copies get
 * the id `<id>:swap`, `metadata.augmentation` gains `"swap_io"` and `metadata.augmentedFrom` names the
 * original; the score is kept.
 *
 * @example
 * ```ts
 * augmentSwapIo([{ id: "a", input: "2 + 2?", output: "4" }]); // [{ id: "a:swap", input: "4", output: "2 + 2?", … }]
 * ```
 */
export function augmentSwapIo<T extends SampleLike>(
  data: ReadonlyArray<T>,
): Array<T & Pick<Sample, "metadata">> {
  checkSamples(data, "data", ["input", "output"]);
  return data.map((sample) => ({
    ...sample,
    ...(sample.id === undefined ? {} : { id: `${sample.id}:swap` }),
    input: sample.output,
    output: sample.input,
    metadata: augmentedMetadata(sample.metadata, "swap_io", sample.id),
  }));
}
