import type { CompletedTrainMetrics } from "../metrics/train-metrics.js";

/** What {@link Trainer.run} returns. */
export interface TrainerRunResult {
  /** Metrics of the training phase. */
  train: CompletedTrainMetrics;
  /** Metrics of the evaluation phase. */
  evaluation: CompletedTrainMetrics;
}

/** Counters of a trainer's progress, saved in checkpoints. */
export interface TrainerProgress {
  /** Optimiser steps taken (cumulative across `train()` calls and resumes). */
  step: number;
  /** Epochs finished. */
  epoch: number;
  /** Steps the run will take in total, when the subclass said so with `setTotalSteps`. */
  totalSteps: number | undefined;
}
