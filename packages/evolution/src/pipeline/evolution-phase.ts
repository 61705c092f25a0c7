/** Where an {@link EvolutionPipeline} is in its loop: initialising, evaluating, selecting, mutating or done. */
export const EvolutionPhase = {
  /** Created, or filling the initial population. */
  INIT: "init",
  /** Scoring the population. */
  EVALUATING: "evaluating",
  /** Choosing the parents. */
  SELECTING: "selecting",
  /** Breeding the next generation. */
  MUTATING: "mutating",
  /** The run finished (all epochs, target reached, or patience exhausted). */
  COMPLETE: "complete",
} as const;

/** One of the {@link EvolutionPhase} values. */
export type EvolutionPhase = (typeof EvolutionPhase)[keyof typeof EvolutionPhase];
