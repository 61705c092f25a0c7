import { checkOptionsObject, functionSchema, parseWith } from "@orbiter/types";
import { z } from "zod";
import type { SynthesisStep } from "./data-synthesiser.js";
import type { SynthesisConfigInput } from "./synthesis-config.js";
import type { SynthesisProgress } from "./synthesis-result.js";

/** Options of the {@link SynthesisPipeline} constructor. */
export interface SynthesisPipelineOptions {
  /** The configuration (input form; defaults are filled in, unknown keys rejected). @default {} */
  config?: SynthesisConfigInput;
  /** Steps to start with (more can be added with {@link SynthesisPipeline.addStep}). @default [] */
  steps?: ReadonlyArray<SynthesisStep>;
  /**
   * Path of a JSONL file to which accepted samples are appended as the run goes; a run started again with
   * the same path resumes where the last one stopped. @default undefined (no checkpoint)
   */
  checkpoint?: string;
  /**
   * Flush the checkpoint to the disk after every step call (survives a machine crash, not only a killed
   * process; costs a disk sync per step call). A failed flush fails the run with `CheckpointError`.
   * @default false
   */
  durableCheckpoint?: boolean;
}

/** Options of {@link SynthesisPipeline.run}. */
export interface SynthesisRunOptions {
  /** Cancels the run; it then rejects with an `AbortedError` (checkpointed work is kept). */
  signal?: AbortSignal;
  /** Called as the run progresses. */
  onProgress?: (progress: SynthesisProgress) => void;
  /** Overrides the constructor's checkpoint path for this run. */
  checkpoint?: string;
}

const checkpointPath = z.string().min(1, { message: "expected a non-empty path" });

const PipelineOptions = z.strictObject({
  config: z
    .custom((value) => typeof value === "object" && value !== null && !Array.isArray(value), {
      message: "expected an object of SynthesisConfig fields",
    })
    .optional(),
  steps: z.array(z.unknown(), { message: "expected an array of steps" }).optional(),
  checkpoint: checkpointPath.optional(),
  durableCheckpoint: z.boolean().optional(),
});

const RunOptions = z.strictObject({
  signal: z.instanceof(AbortSignal, { message: "expected an AbortSignal" }).optional(),
  onProgress: functionSchema<(progress: SynthesisProgress) => void>(
    "expected a function (progress) => void",
  ).optional(),
  checkpoint: checkpointPath.optional(),
});

/**
 * Checks the constructor's options (the config's own fields and each step are checked where they are used).
 *
 * @throws InvalidArgumentError naming an unknown key (a typo such as `checkpont` would silently lose the
 * checkpoint) or a value of the wrong type
 */
export function checkPipelineOptions(options: unknown): asserts options is SynthesisPipelineOptions {
  checkOptionsObject(options, "SynthesisPipeline options");
  parseWith(PipelineOptions, options, { what: "SynthesisPipeline options" });
}

/**
 * Parses the options of `run`.
 *
 * @throws InvalidArgumentError naming an unknown key (`onProgres`) or a value of the wrong type
 */
export function parseRunOptions(options: unknown): SynthesisRunOptions {
  checkOptionsObject(options, "SynthesisPipeline run options");
  return parseWith(RunOptions, options, { what: "SynthesisPipeline run options" }) as SynthesisRunOptions;
}
