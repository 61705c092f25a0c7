export type { SampleSource } from "@orbiter/types";
export { AddNoiseOptions, augmentAddNoise } from "./augmentation/augment-add-noise.js";
export { augmentSwapIo } from "./augmentation/augment-swap-io.js";
export { type DecontaminationResult, decontaminate } from "./dedup/decontaminate.js";
export {
  DeduplicateOptions,
  deduplicate,
  findNearDuplicates,
  type NearDuplicateReport,
} from "./dedup/deduplicate.js";
export {
  type ChooseLshParametersOptions,
  chooseLshParameters,
  type LshParameters,
  lshCandidateProbability,
} from "./dedup/lsh-parameters.js";
export {
  type DuplicateMatch,
  type MinHashMethod,
  NearDuplicateIndex,
  type NearDuplicateIndexOptions,
} from "./dedup/near-duplicate-index.js";
export { exactShingleJaccard, shingleSet } from "./dedup/shingles.js";
export { FilterByScoreOptions, filterByScore } from "./filter/filter-by-score.js";
export {
  type GenerateCallInfo,
  type GeneratedText,
  type GenerationBatch,
  type GeneratorCallOptions,
  GeneratorSynthesiser,
  GeneratorSynthesiserOptions,
  type PromptInfo,
  type PromptValue,
  type TextGenerator,
} from "./generator/generator-synthesiser.js";
export {
  DataSynthesiser,
  type StepProgress,
  type SynthesisContext,
  type SynthesisFailure,
  type SynthesisStep,
} from "./pipeline/data-synthesiser.js";
export type { SynthesisPipelineOptions, SynthesisRunOptions } from "./pipeline/pipeline-options.js";
export {
  type DedupKey,
  type SampleScorer,
  SynthesisConfig,
  type SynthesisConfigInput,
} from "./pipeline/synthesis-config.js";
export { SynthesisPipeline } from "./pipeline/synthesis-pipeline.js";
export type {
  StepStatistics,
  SynthesisFailureRecord,
  SynthesisProgress,
  SynthesisResult,
  SynthesisStopReason,
} from "./pipeline/synthesis-result.js";
export {
  type GroupBy,
  type SplitOptions,
  type Splits,
  splitDataset,
  splitSizes,
} from "./split/split-dataset.js";
export {
  type Template,
  type TemplateDerivation,
  TemplateSynthesiser,
  TemplateSynthesiserOptions,
  type TemplateValue,
} from "./templates/template-synthesiser.js";
