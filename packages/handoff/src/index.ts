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
