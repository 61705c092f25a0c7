import { z } from "zod";

/** A metric value: any number, NaN and infinities included (a diverged loss must still be reported). */
const metricNumber = z.custom<number>((value) => typeof value === "number", { message: "Expected a number" });

/**
 * The result of a training or evaluation phase. Trainers return the input form (`{ loss: 0.5, accuracy: 0.85 }`);
 * the trainer fills in `steps` and `extra`.
 *
 * @example
 * ```ts
 * const metrics = TrainMetrics.parse({ loss: 0.3, accuracy: 0.9, extra: { kl: 0.01 } });
 * ```
 */
export const TrainMetrics = z.strictObject({
  /** Mean loss of the phase. */
  loss: metricNumber,
  /** Share of correct answers, when the task has them. */
  accuracy: metricNumber.optional(),
  /** Mean reward, for reinforcement learning. */
  reward: metricNumber.optional(),
  /** Optimiser steps taken so far. @default the trainer's step counter */
  steps: z.number().int().nonnegative().optional(),
  /** Any other named numbers (`kl`, `entropy`, `reward/helpfulness`, ...). @default {} */
  extra: z.record(z.string(), metricNumber).default(() => ({})),
});

/**
 * What `train()` and `evaluate()` return: the schema's input, so `{ loss: 0.5, accuracy: 0.85 }` is one;
 * `steps` and `extra` can be left out and are filled in by the trainer (see {@link CompletedTrainMetrics}).
 */
export type TrainMetrics = z.input<typeof TrainMetrics>;
/** Another name of {@link TrainMetrics}, the form a phase may return. */
export type TrainMetricsInput = TrainMetrics;
/** Metrics of a finished phase, as the trainer reports them: `steps` and `extra` always present. */
export type CompletedTrainMetrics = Omit<z.output<typeof TrainMetrics>, "steps"> & { steps: number };

/**
 * The metrics of one optimiser step, reported by a trainer with `reportStep` and written to the metrics log.
 */
export interface StepMetrics {
  /** Loss of the step. */
  loss: number;
  /** Accuracy on the step's batch, when known. */
  accuracy?: number | undefined;
  /** Mean reward of the step's batch, for reinforcement learning. */
  reward?: number | undefined;
  /** Learning rate used by the step. */
  learningRate?: number | undefined;
  /** Any other named numbers. */
  extra?: Readonly<Record<string, number>> | undefined;
}
