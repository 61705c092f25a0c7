export {
  type EpisodeSftOptions,
  openAiChatRowsFromEpisodes,
  openAiPreferenceRows,
  type PreferencePair,
  preferencePairsFromEpisodes,
  trlConversationalRowsFromEpisodes,
  trlPreferenceRows,
} from "./convert/episode-rows.js";
export { type RecordedEpisode, readRecordedEpisodes, recordedEpisodes } from "./convert/recorded-episodes.js";
export {
  openAiChatRowsFromSamples,
  RESERVED_EXTRA_INFO,
  type SampleList,
  type SampleSftOptions,
  trlPromptCompletionRowsFromSamples,
  type VerlEpisodeRowsOptions,
  type VerlRowsOptions,
  verlRowsFromEpisodes,
  verlRowsFromSamples,
} from "./convert/sample-rows.js";
export {
  checkDatasetFormat,
  DATASET_ROW_SCHEMAS,
  DatasetFormat,
  type DatasetRow,
} from "./formats/dataset-format.js";
export { DatasetMessage, DatasetToolCall } from "./formats/dataset-message.js";
export { OpenAiChatMessage, OpenAiChatRow, OpenAiPreferenceRow } from "./formats/openai-rows.js";
export { TrlConversationalRow, TrlPreferenceRow, TrlPromptCompletionRow } from "./formats/trl-rows.js";
export { ExtraInfoValue, VerlPromptMessage, VerlRow } from "./formats/verl-row.js";
export type { RowSource } from "./internal/rows-source.js";
export {
  type JsonlDatasetOptions,
  readJsonlDataset,
  streamJsonlDataset,
  writeJsonlDataset,
} from "./io/jsonl-dataset.js";
export {
  readVerlParquet,
  streamVerlParquet,
  type WriteVerlParquetOptions,
  writeVerlParquet,
} from "./io/verl-parquet.js";
export type { WriteSummary } from "./io/write-summary.js";
export {
  type ExportVerlJobOptions,
  exportVerlJob,
  VerlJobOptions,
  type VerlJobSummary,
} from "./job/export-verl-job.js";
export { LOCAL_ONLY_SETTINGS, type VerlOverride } from "./job/verl-settings.js";
export { VERL_CONFIG_KEYS, VERL_VERSION } from "./job/verl-version.js";
export { ScoreBatchRequest, ScoreRequest, sampleFromCall } from "./serve/score-request.js";
export {
  type RewardServer,
  type ScoreResult,
  ServeRewardsOptions,
  serveRewards,
} from "./serve/serve-rewards.js";
