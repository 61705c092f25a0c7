import { InvalidArgumentError } from "@orbiter/types";
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

const TRAINER_EVENT_NAMES = {
  stateChange: true,
  step: true,
  epoch: true,
  evaluation: true,
  checkpoint: true,
} as const satisfies Record<keyof TrainerEvents, true>;

/**
 * Refuses (with `InvalidArgumentError`) a listener for an event the trainer never sends (a typo would silently
 * never be called) and a listener that is not a function.
 */
export function checkListener(event: unknown, listener: unknown): void {
  if (typeof event !== "string" || !Object.hasOwn(TRAINER_EVENT_NAMES, event)) {
    const known = Object.keys(TRAINER_EVENT_NAMES).join(", ");
    throw new InvalidArgumentError(
      `Unknown trainer event ${JSON.stringify(event)} (the events are ${known})`,
      {
        field: "event",
        value: event,
      },
    );
  }
  if (typeof listener !== "function") {
    throw new InvalidArgumentError(`The listener of "${event}" must be a function`, { field: "listener" });
  }
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
