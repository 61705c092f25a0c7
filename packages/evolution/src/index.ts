export { EvolutionConfig, type EvolutionConfigInput } from "./config/evolution-config.js";
export {
  HyperparameterStrategy,
  type HyperparameterStrategyOptions,
} from "./hyperparameter/hyperparameter-strategy.js";
export {
  ParameterSpec,
  type ParameterSpecInput,
  type ParameterValue,
  type Params,
  SearchSpace,
} from "./hyperparameter/search-space.js";
export { EvaluationsFailedError } from "./pipeline/evaluations-failed-error.js";
export {
  EVOLUTION_CHECKPOINT_FORMAT,
  EVOLUTION_CHECKPOINT_VERSION,
  EvolutionCheckpoint,
  readEvolutionCheckpoint,
} from "./pipeline/evolution-checkpoint.js";
export { EvolutionPhase } from "./pipeline/evolution-phase.js";
export { EvolutionPipeline } from "./pipeline/evolution-pipeline.js";
export type {
  EpochStats,
  EvaluationFailure,
  EvolutionProgressEvent,
  EvolutionResult,
  StopReason,
} from "./pipeline/evolution-result.js";
export type { EvolutionPipelineOptions, EvolutionRunOptions } from "./pipeline/pipeline-options.js";
export { rankByScore } from "./selection/rank-by-score.js";
export { type RouletteOptions, rouletteSelection } from "./selection/roulette-selection.js";
export { type TournamentOptions, tournamentSelection } from "./selection/tournament-selection.js";
export { type TruncationOptions, truncationSelection } from "./selection/truncation-selection.js";
export {
  type CreationContext,
  type CrossoverContext,
  type EvaluationContext,
  EvolutionStrategy,
  type MutationContext,
  type SelectionContext,
} from "./strategy/evolution-strategy.js";
