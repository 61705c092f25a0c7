import type {
  ChatChoice,
  ChatCompletionResult,
  ChatMessage,
  ChatStreamEvent,
  ChatUsage,
  FinishReason,
  JsonObject,
  ToolCallDelta,
} from "@orbiter/types";

/**
 * Conversions between the OpenAI chat-completions wire format (JSON bodies and stream chunks, snake_case) and
 * the `ChatModel` contract of `@orbiter/types` (camelCase results and stream events). Incoming JSON is read
 * leniently — what a field does not hold is left out — and what goes out always has the shape clients expect.
 */

type Json = Record<string, unknown>;

const FINISH_REASONS: ReadonlySet<string> = new Set([
  "stop",
  "length",
  "tool_calls",
  "content_filter",
  "function_call",
]);

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** An OpenAI finish reason; anything else (null, vendor values) reads as `tool_calls` or `stop`. */
export function readFinishReason(value: unknown, hasToolCalls: boolean): FinishReason {
  if (typeof value === "string" && FINISH_REASONS.has(value)) return value as FinishReason;
  return hasToolCalls ? "tool_calls" : "stop";
}

/** The integers of `value` when it is an array of integers, otherwise undefined. */
export function readIntegers(value: unknown): number[] | undefined {
  if (!Array.isArray(value) || !value.every((entry) => Number.isInteger(entry))) return undefined;
  return value as number[];
}

/** The sampled tokens' log-probabilities of an OpenAI `logprobs` object (`content[].logprob`). */
export function tokenLogprobsOf(logprobs: unknown): number[] | undefined {
  if (!isObject(logprobs) || !Array.isArray(logprobs.content)) return undefined;
  const out: number[] = [];
  for (const entry of logprobs.content) {
    if (!isObject(entry) || typeof entry.logprob !== "number") return undefined;
    out.push(entry.logprob);
  }
  return out;
}

function readContent(value: unknown): string | null {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) {
    return value.map((part) => (isObject(part) && typeof part.text === "string" ? part.text : "")).join("");
  }
  return null;
}

function readToolCalls(value: unknown): NonNullable<ChatMessage["tool_calls"]> {
  if (!Array.isArray(value)) return [];
  const calls: NonNullable<ChatMessage["tool_calls"]> = [];
  for (const raw of value) {
    if (!isObject(raw) || !isObject(raw.function)) continue;
    const name = raw.function.name;
    if (typeof name !== "string" || name === "") continue;
    const args = raw.function.arguments;
    calls.push({
      id: typeof raw.id === "string" ? raw.id : "",
      type: "function",
      function: { name, arguments: typeof args === "string" ? args : JSON.stringify(args ?? {}) },
    });
  }
  return calls;
}

function readUsage(value: unknown): ChatUsage | undefined {
  if (!isObject(value)) return undefined;
  const prompt = typeof value.prompt_tokens === "number" ? value.prompt_tokens : 0;
  const completion = typeof value.completion_tokens === "number" ? value.completion_tokens : 0;
  const total = typeof value.total_tokens === "number" ? value.total_tokens : prompt + completion;
  return { promptTokens: prompt, completionTokens: completion, totalTokens: total };
}

/** The assistant message of a choice, in the checked shape: `content` and, when there are any, `tool_calls`. */
function assistantMessage(content: string | null, toolCalls: ChatMessage["tool_calls"]) {
  const message: ChatMessage & { role: "assistant" } = { role: "assistant", content };
  if (toolCalls !== undefined && toolCalls.length > 0) message.tool_calls = toolCalls;
  return message;
}

/**
 * Reads an OpenAI chat-completion response body. Returns undefined when it has no `choices` array (not a
 * chat completion). Token ids are read where an inference server returns them (`token_ids`,
 * `prompt_token_ids`), log-probabilities from the `logprobs` object.
 */
export function readCompletionResponse(
  body: unknown,
  requestModel: string,
): ChatCompletionResult | undefined {
  if (!isObject(body) || !Array.isArray(body.choices)) return undefined;
  const choices: ChatChoice[] = [];
  body.choices.forEach((raw: unknown, position: number) => {
    if (!isObject(raw)) return;
    const message = isObject(raw.message) ? raw.message : {};
    const toolCalls = readToolCalls(message.tool_calls);
    const choice: ChatChoice = {
      index: typeof raw.index === "number" ? raw.index : position,
      message: assistantMessage(readContent(message.content), toolCalls),
      finishReason: readFinishReason(raw.finish_reason, toolCalls.length > 0),
    };
    copyTokenDetails(raw, choice);
    choices.push(choice);
  });
  const result: ChatCompletionResult = {
    model: typeof body.model === "string" ? body.model : requestModel,
    choices,
  };
  if (typeof body.id === "string") result.id = body.id;
  const usage = readUsage(body.usage);
  if (usage) result.usage = usage;
  const promptTokenIds = readIntegers(body.prompt_token_ids);
  if (promptTokenIds) result.promptTokenIds = promptTokenIds;
  return result;
}

/** What one OpenAI stream chunk says: the events it carries, finish reasons, usage and ids. */
export interface ChunkReading {
  events: Array<Extract<ChatStreamEvent, { type: "delta" }>>;
  finishReasons: Array<{ choiceIndex: number; finishReason: unknown }>;
  usage: ChatUsage | undefined;
  id: string | undefined;
  model: string | undefined;
  promptTokenIds: number[] | undefined;
}

function readToolCallDeltas(value: unknown): ToolCallDelta[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const out: ToolCallDelta[] = [];
  value.forEach((raw: unknown, position: number) => {
    if (!isObject(raw)) return;
    const delta: ToolCallDelta = { index: typeof raw.index === "number" ? raw.index : position };
    if (typeof raw.id === "string") delta.id = raw.id;
    if (raw.type === "function") delta.type = "function";
    if (isObject(raw.function)) {
      const fn: { name?: string; arguments?: string } = {};
      if (typeof raw.function.name === "string") fn.name = raw.function.name;
      if (typeof raw.function.arguments === "string") fn.arguments = raw.function.arguments;
      delta.function = fn;
    }
    out.push(delta);
  });
  return out.length > 0 ? out : undefined;
}

/** Reads one `chat.completion.chunk` of an OpenAI stream. */
export function readStreamChunk(chunk: unknown): ChunkReading {
  const reading: ChunkReading = {
    events: [],
    finishReasons: [],
    usage: undefined,
    id: undefined,
    model: undefined,
    promptTokenIds: undefined,
  };
  if (!isObject(chunk)) return reading;
  if (typeof chunk.id === "string") reading.id = chunk.id;
  if (typeof chunk.model === "string") reading.model = chunk.model;
  reading.usage = readUsage(chunk.usage);
  reading.promptTokenIds = readIntegers(chunk.prompt_token_ids);
  if (!Array.isArray(chunk.choices)) return reading;
  chunk.choices.forEach((raw: unknown, position: number) => {
    if (!isObject(raw)) return;
    const choiceIndex = typeof raw.index === "number" ? raw.index : position;
    const delta = isObject(raw.delta) ? raw.delta : {};
    const event: Extract<ChatStreamEvent, { type: "delta" }> = { type: "delta", choiceIndex };
    if (typeof delta.content === "string" && delta.content !== "") event.content = delta.content;
    const toolCalls = readToolCallDeltas(delta.tool_calls);
    if (toolCalls) event.toolCalls = toolCalls;
    copyTokenDetails(raw, event);
    reading.events.push(event);
    if (raw.finish_reason !== null && raw.finish_reason !== undefined) {
      reading.finishReasons.push({ choiceIndex, finishReason: raw.finish_reason });
    }
  });
  return reading;
}

/** The usage object of the wire format. */
export function usageToWire(usage: ChatUsage): Json {
  return {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.totalTokens,
  };
}

/** The response body of a non-streaming call: an OpenAI `chat.completion` object. */
export function completionToWire(result: ChatCompletionResult, id: string, created: number): Json {
  const body: Json = {
    id,
    object: "chat.completion",
    created,
    model: result.model,
    choices: result.choices.map((choice) => ({
      index: choice.index,
      message: {
        role: "assistant",
        content: choice.message.content ?? null,
        ...(choice.message.tool_calls && choice.message.tool_calls.length > 0
          ? { tool_calls: choice.message.tool_calls }
          : {}),
      },
      logprobs: choice.logprobs ?? null,
      finish_reason: choice.finishReason,
    })),
  };
  if (result.usage) body.usage = usageToWire(result.usage);
  return body;
}

/** One `chat.completion.chunk` of a stream with the given choices. */
export function chunkToWire(id: string, created: number, model: string, choices: Json[], usage?: ChatUsage) {
  const chunk: Json = { id, object: "chat.completion.chunk", created, model, choices };
  if (usage) chunk.usage = usageToWire(usage);
  return chunk;
}

/**
 * Copies what a wire choice (or chunk choice) carries about its tokens onto `into`: the OpenAI `logprobs` object,
 * the per-token log-probabilities read from it, and vLLM's `token_ids` (absent ones left out).
 */
function copyTokenDetails(
  raw: Record<string, unknown>,
  into: { logprobs?: JsonObject | null; tokenLogprobs?: number[]; tokenIds?: number[] },
): void {
  if (isObject(raw.logprobs)) {
    into.logprobs = raw.logprobs as JsonObject;
    const tokenLogprobs = tokenLogprobsOf(raw.logprobs);
    if (tokenLogprobs) into.tokenLogprobs = tokenLogprobs;
  }
  const tokenIds = readIntegers(raw.token_ids);
  if (tokenIds) into.tokenIds = tokenIds;
}
