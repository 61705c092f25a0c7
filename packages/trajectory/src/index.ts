export {
  type ChatMessage,
  TrajectoryItem,
  type TrajectoryItemInput,
} from "@orbiter/types";
export type { Episode } from "./dataset/episodes.js";
export { toSample } from "./dataset/to-sample.js";
export {
  ExportCsvOptions,
  type ImportOptions,
  ReturnsOptions,
  TrajectoryDataset,
  TrajectoryDatasetOptions,
} from "./dataset/trajectory-dataset.js";
export { CSV_COLUMNS, type CsvColumn } from "./io/csv-file.js";
export type { ExportSummary } from "./io/export-summary.js";
export { FORMULA_TRIGGERS, guardCsvCell, unguardCsvCell } from "./io/formula-guard.js";
export { type ImportWarning, ImportWarningKind, ReadOptions } from "./io/import-options.js";
export {
  CaptureMessagesOptions,
  captureMessages,
  renderConversation,
  renderTurn,
} from "./messages/capture-messages.js";
export type { JsonlRecoverOptions, JsonlRecovery, JsonlRecoveryReport } from "./sink/jsonl-recovery.js";
export { JsonlSink, JsonlSinkOptions, type JsonlUnwritten } from "./sink/jsonl-sink.js";
export type { TrajectorySink } from "./sink/trajectory-sink.js";
export { DefaultStrategy } from "./strategy/default-strategy.js";
export { TrajectoryStrategy } from "./strategy/trajectory-strategy.js";
