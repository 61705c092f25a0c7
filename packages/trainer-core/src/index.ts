/**
 * @deprecated import `writeFileAtomic` and `fsyncDirectory` from `@orbiter/types`, where they live. Kept so that
 * code importing them from this package's published API goes on working.
 */
export { fsyncDirectory, writeFileAtomic } from "@orbiter/types";
export {
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  CheckpointManifest,
  readCheckpointManifest,
  TRAINER_STATE_FILE,
} from "./checkpoint/checkpoint-manifest.js";
export {
  type WriteDirectoryAtomicOptions,
  writeDirectoryAtomic,
} from "./checkpoint/write-directory-atomic.js";
export { type LearningRateConfig, learningRateAt } from "./config/learning-rate.js";
export {
  LearningRateSchedule,
  TrainConfig,
  type TrainConfigInput,
  trainConfigShape,
} from "./config/train-config.js";
export {
  MetricsLogger,
  type MetricsLoggerOptions,
  type MetricsLogKind,
  type MetricsLogRecord,
  readMetricsLog,
} from "./metrics/metrics-logger.js";
export {
  type CompletedTrainMetrics,
  type StepMetrics,
  TrainMetrics,
  type TrainMetricsInput,
} from "./metrics/train-metrics.js";
export {
  ProgressReporter,
  type ProgressReporterOptions,
  type ProgressStream,
  type ProgressValues,
} from "./progress/progress-reporter.js";
export {
  type CheckFailure,
  type DatasetLike,
  Trainer,
  type TrainerOptions,
  type TrainerProgress,
  type TrainerRunResult,
} from "./trainer/trainer.js";
export type {
  CheckpointEvent,
  EpochEvent,
  EvaluationEvent,
  StateChangeEvent,
  StepEvent,
  TrainerCallbacks,
  TrainerEvents,
} from "./trainer/trainer-events.js";
export { canTransition, TRAINER_TRANSITIONS, TrainerState } from "./trainer/trainer-state.js";
