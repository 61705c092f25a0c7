export {
  AssistantMessage,
  type ChatChoice,
  ChatCompletionRequest,
  type ChatCompletionResult,
  type ChatModel,
  type ChatModelCallOptions,
  type ChatStreamEvent,
  type ChatUsage,
  FinishReason,
  type ToolCallDelta,
  ToolChoice,
  ToolDefinition,
} from "./contracts/chat-model.js";
export {
  AbortedError,
  BackendError,
  CheckpointError,
  GenerationError,
  InvalidArgumentError,
  type InvalidArgumentErrorOptions,
  InvalidStateError,
  PhaseError,
  RewardError,
  ValidationFailedError,
} from "./errors/error-kinds.js";
export { messageOf } from "./errors/message-of.js";
export { OrbiterError, type OrbiterErrorOptions } from "./errors/orbiter-error.js";
export { onPath, type PathAction, pathError } from "./io/path-error.js";
export { isWellFormed, toWellFormed } from "./io/well-formed-text.js";
export { fsyncDirectory, temporarySibling, writeFileAtomic } from "./io/write-file-atomic.js";
export { randomUuid } from "./random/random-uuid.js";
export { deriveSeed, SeededRandom } from "./random/seeded-random.js";
export { SeededRandomState } from "./random/seeded-random-state.js";
export { ChatMessage, ChatRole, ContentPart, ToolCall } from "./schemas/chat-message.js";
export { functionSchema } from "./schemas/function-schema.js";
export { JsonObject, JsonValue } from "./schemas/json.js";
export { decodeJsonNumber, encodeJsonNumber, JsonNumber } from "./schemas/json-number.js";
export {
  checkOptionsObject,
  formatPath,
  type ParseContext,
  parseWith,
  toInvalidArgumentError,
} from "./schemas/parse-with.js";
export { Sample, type SampleInput } from "./schemas/sample.js";
export {
  isSampleProvider,
  listSamples,
  type SampleProvider,
  type SampleSource,
} from "./schemas/sample-source.js";
export { TrajectoryItem, type TrajectoryItemInput } from "./schemas/trajectory-item.js";
