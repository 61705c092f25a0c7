import type { CompletedTrainMetrics, StepMetrics } from "../metrics/train-metrics.js";
import type { TrainerState } from "./trainer-state.js";

/** Payload of the `stateChange` event. */
export interface StateChangeEvent {
  /** State before the change. */
  from: TrainerState;
  /** State after the change. */
  to: TrainerState;
  /** The error that caused a change to `error`. */
  error?: unknown;
}

/** Payload of the `step` event, sent once per optimiser step. */
export interface StepEvent {
  /** 1-based number of the step just finished (cumulative across `train()` calls and resumes). */
  step: number;
  /** 0-based epoch the step belongs to. */
  epoch: number;
  /** Steps the whole run will take, when the trainer knows it. */
  totalSteps: number | undefined;
  /** The step's metrics. */
  metrics: StepMetrics;
}

/** Payload of the `epoch` event, sent at the end of each epoch. */
export interface EpochEvent {
  /** 0-based number of the epoch just finished. */
  epoch: number;
  /** Step counter at the end of the epoch. */
  step: number;
  /** Summary metrics of the epoch, when the trainer reports them. */
  metrics: CompletedTrainMetrics | undefined;
}

/** Payload of the `evaluation` event: an evaluation during training, or the final `evaluate()`. */
export interface EvaluationEvent {
  /** Step counter at the time of the evaluation. */
  step: number;
  /** The evaluation's metrics. */
  metrics: CompletedTrainMetrics;
  /** True for the evaluation phase (`evaluate()`), false for one made during training (`evalEvery`). */
  final: boolean;
}

/** Payload of the `checkpoint` event, sent after a checkpoint was written. */
export interface CheckpointEvent {
  /** The checkpoint folder. */
  dir: string;
  /** Step counter saved in it. */
  step: number;
}

/** Every event a {@link Trainer} sends, by name. */
export interface TrainerEvents {
  stateChange: StateChangeEvent;
  step: StepEvent;
  epoch: EpochEvent;
  evaluation: EvaluationEvent;
  checkpoint: CheckpointEvent;
}

/**
 * An object of optional callbacks, one per event (Keras style). `MetricsLogger` and `ProgressReporter` are
 * callbacks; pass them in the trainer's `callbacks` option or to `trainer.addCallbacks()`. Callbacks may be
 * async: the trainer waits for them, and an error they throw fails the running phase.
 */
export interface TrainerCallbacks {
  /** After each state change. */
  onStateChange?(event: StateChangeEvent): void | Promise<void>;
  /** After each optimiser step. */
  onStep?(event: StepEvent): void | Promise<void>;
  /** After each epoch. */
  onEpoch?(event: EpochEvent): void | Promise<void>;
  /** After each evaluation (during training and the final one). */
  onEvaluation?(event: EvaluationEvent): void | Promise<void>;
  /** After a checkpoint was written. */
  onCheckpoint?(event: CheckpointEvent): void | Promise<void>;
}
