import { CheckpointError, type Sample } from "@orbiter/types";
import type { VeRLConfig } from "../config/verl-config.js";
import { EpochBatches } from "./epoch-batches.js";

/** Where a `train()` call starts from. */
export interface TrainingRunStart {
  /** The trainer's step counter. */
  step: number;
  /** The counter was restored by `resume()` and no `train()` has run since. */
  resumed: boolean;
  /** The number of samples the resumed checkpoint was trained on, when it recorded one. */
  resumedDataSize: number | undefined;
}

/** The batches of a `train()` call and the step counter it ends at. */
export interface TrainingRunPlan {
  batches: EpochBatches;
  /** The step counter at which the call stops. */
  total: number;
}

/**
 * Plans one `train()` call: a fresh run or a further `train()` call trains `config.epochs` more passes; after
 * `resume()` the run continues to the total it was planned with; `config.maxSteps` caps the step counter itself.
 *
 * @throws CheckpointError when a resumed run gets other data than it was trained on (a different sample count)
 */
export function planTrainingRun(
  samples: Sample[],
  config: VeRLConfig,
  start: TrainingRunStart,
): TrainingRunPlan {
  if (start.resumedDataSize !== undefined && start.resumedDataSize !== samples.length) {
    throw new CheckpointError(
      `The checkpoint was trained on ${start.resumedDataSize} samples but train() got ${samples.length}: resume with the same data`,
    );
  }
  const batches = new EpochBatches(samples, config.batchSize, config.seed);
  const planned = (start.resumed ? 0 : start.step) + config.epochs * batches.stepsPerEpoch;
  return { batches, total: config.maxSteps === undefined ? planned : Math.min(planned, config.maxSteps) };
}
