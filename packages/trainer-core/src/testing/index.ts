export {
  type AnyTrainer,
  type ConformanceCase,
  type ConformanceReport,
  type ConformanceResult,
  describeTrainerConformance,
  runTrainerConformance,
  type TestFramework,
  type TrainerConformanceOptions,
  trainerConformanceCases,
} from "./trainer-conformance.js";
