import { InvalidArgumentError } from "@orbiter/types";
import type { LearningRateSchedule } from "./train-config.js";

/** The fields {@link learningRateAt} reads; any config built on `TrainConfig` has them. */
export interface LearningRateConfig {
  /** Peak learning rate. */
  learningRate: number;
  /** Steps of linear warm-up. */
  warmupSteps: number;
  /** Shape of the schedule. */
  lrSchedule: LearningRateSchedule;
  /** Learning rate at the end of a cosine schedule. @default 0 */
  minLearningRate?: number | undefined;
  /** Last step of a cosine schedule when no `totalSteps` is passed. */
  maxSteps?: number | undefined;
}

/**
 * The learning rate of optimiser step `step` (0-based) under `config.lrSchedule`.
 *
 * Warm-up is linear and never wastes a step: step 0 uses `learningRate / warmupSteps`, step `warmupSteps - 1`
 * the full rate. The cosine decay runs from the end of warm-up to `totalSteps` (default `config.maxSteps`) and
 * stays at `minLearningRate` after it.
 *
 * @param step 0-based optimiser step
 * @param config learning rate fields of a `TrainConfig`
 * @param totalSteps number of steps of the whole run; required by `cosine` unless `config.maxSteps` is set
 * @example
 * ```ts
 * const lr = learningRateAt(10, { learningRate: 1e-3, warmupSteps: 100, lrSchedule: "linear-warmup" }); // 1.1e-4
 * ```
 */
export function learningRateAt(step: number, config: LearningRateConfig, totalSteps?: number): number {
  if (!Number.isInteger(step) || step < 0) {
    throw new InvalidArgumentError(`Invalid step ${step}: expected an integer >= 0`, {
      field: "step",
      value: step,
    });
  }
  const { learningRate, warmupSteps, lrSchedule } = config;
  const minimum = config.minLearningRate ?? 0;
  if (minimum > learningRate) {
    throw new InvalidArgumentError(
      `Invalid config: minLearningRate (${minimum}) must not exceed learningRate (${learningRate})`,
      { field: "config.minLearningRate", value: minimum },
    );
  }
  if (lrSchedule === "constant") return learningRate;
  if (step < warmupSteps) return (learningRate * (step + 1)) / warmupSteps;
  if (lrSchedule === "linear-warmup") return learningRate;
  const total = totalSteps ?? config.maxSteps;
  if (total === undefined || !Number.isInteger(total) || total < 1) {
    throw new InvalidArgumentError(
      "The cosine schedule needs the number of steps: pass totalSteps or set config.maxSteps",
      { field: "totalSteps", value: total },
    );
  }
  const decaySteps = total - warmupSteps;
  if (decaySteps <= 1) return learningRate;
  // Step `warmupSteps` is the first at the peak; step `total - 1` reaches the minimum.
  const progress = Math.min(1, (step - warmupSteps) / (decaySteps - 1));
  return minimum + (learningRate - minimum) * 0.5 * (1 + Math.cos(Math.PI * progress));
}
