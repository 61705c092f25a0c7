import { checkOptionsObject, functionSchema, parseWith } from "@orbiter/types";
import { z } from "zod";
import type { EvolutionConfigInput } from "../config/evolution-config.js";
import type { EvolutionStrategy } from "../strategy/evolution-strategy.js";
import type { EvolutionProgressEvent } from "./evolution-result.js";

/** Options of the {@link EvolutionPipeline} constructor. */
export interface EvolutionPipelineOptions<C> {
  /** Hyper-parameters. @default {} (every default) */
  config?: EvolutionConfigInput | undefined;
  /** How candidates are scored and varied: an `EvolutionStrategy` subclass or a plain object. */
  strategy: EvolutionStrategy<C>;
}

/** Options of {@link EvolutionPipeline.run} and {@link EvolutionPipeline.resume}. */
export interface EvolutionRunOptions {
  /** Cancels the run: it rejects with `AbortedError` and evaluations receive the signal. @default undefined */
  signal?: AbortSignal | undefined;
  /** Receives phase, evaluation, epoch, checkpoint and stop events (synchronously). @default undefined */
  onProgress?: ((event: EvolutionProgressEvent) => void) | undefined;
  /**
   * Write the whole state of the run to this JSON file (atomically) at the start of every generation after the
   * first, so that `resume(path)` can continue it. @default undefined (no checkpoints)
   */
  checkpointPath?: string | undefined;
}

const PipelineOptionKeys = z.strictObject({
  config: z
    .custom(
      (value) =>
        value === undefined || (typeof value === "object" && value !== null && !Array.isArray(value)),
      {
        message: "expected an object of EvolutionConfig fields",
      },
    )
    .optional(),
  strategy: z.unknown(),
});

const RunOptions = z.strictObject({
  signal: z.instanceof(AbortSignal, { message: "expected an AbortSignal" }).optional(),
  onProgress: functionSchema<(event: EvolutionProgressEvent) => void>(
    "expected a function (event) => void",
  ).optional(),
  checkpointPath: z.string().min(1, { message: "expected a non-empty path" }).optional(),
});

/**
 * Checks the constructor's options: an object with `config` and `strategy` only (the config's own fields and
 * the strategy's methods are checked where they are parsed).
 *
 * @throws InvalidArgumentError naming an unknown key (a typo such as `confg`) or a `config` that is not an object
 */
export function checkPipelineOptions(options: unknown): void {
  checkOptionsObject(options, "EvolutionPipeline options ({ config, strategy })");
  parseWith(PipelineOptionKeys, options, { what: "EvolutionPipeline options" });
}

/**
 * Parses the options of `run` and `resume`.
 *
 * @throws InvalidArgumentError naming an unknown key (a typo such as `checkpointpath` would silently lose the
 * checkpoints) or a value of the wrong type
 */
export function parseRunOptions(options: unknown): EvolutionRunOptions {
  checkOptionsObject(options, "EvolutionPipeline run options");
  return parseWith(RunOptions, options, { what: "EvolutionPipeline run options" });
}
