/**
 * The lifecycle of a {@link Trainer} (its state machine):
 * `created → validating → validated → training → trained → evaluating → complete`, or `error` from any phase.
 */
export const TrainerState = {
  /** Constructed; nothing has run yet. */
  CREATED: "created",
  /** The four pre-training checks are running. */
  VALIDATING: "validating",
  /** Every check passed; training may start. */
  VALIDATED: "validated",
  /** `train()` is running. */
  TRAINING: "training",
  /** Training finished; evaluation may start (or training may continue). */
  TRAINED: "trained",
  /** `evaluate()` is running. */
  EVALUATING: "evaluating",
  /** Evaluation finished. `evaluate()` may run again; nothing else may. */
  COMPLETE: "complete",
  /** A check failed or a phase threw. Terminal: create a new trainer (and `resume` it from a checkpoint). */
  ERROR: "error",
} as const;

/** One of the {@link TrainerState} values. */
export type TrainerState = (typeof TrainerState)[keyof typeof TrainerState];

/**
 * Every legal state change. `trained → training` continues training (a second `train()` call) and
 * `complete → evaluating` evaluates again; any other change is refused with an `InvalidStateError`.
 */
export const TRAINER_TRANSITIONS: Readonly<Record<TrainerState, ReadonlyArray<TrainerState>>> = {
  created: ["validating"],
  validating: ["validated", "error"],
  validated: ["training"],
  training: ["trained", "error"],
  trained: ["training", "evaluating"],
  evaluating: ["complete", "error"],
  complete: ["evaluating"],
  error: [],
};

/** True when the lifecycle allows going from `from` to `to`. */
export function canTransition(from: TrainerState, to: TrainerState): boolean {
  return TRAINER_TRANSITIONS[from].includes(to);
}
