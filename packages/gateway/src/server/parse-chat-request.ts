import { ChatCompletionRequest, toInvalidArgumentError } from "@orbiter/types";
import { notePlainMessages } from "../recording/checked-messages.js";
import { arePlainChatMessages, isJsonObject, isPlainObject } from "../recording/plain-checks.js";
import { HttpProblem } from "./openai-error.js";

/** Fields of OpenAI response messages that carry nothing when empty: dropped when an agent sends them back. */
const EMPTY_RESPONSE_FIELDS = [
  "refusal",
  "annotations",
  "audio",
  "function_call",
  "reasoning_content",
] as const;

function isEmpty(value: unknown): boolean {
  return value === null || value === "" || (Array.isArray(value) && value.length === 0);
}

/**
 * Agents often append the assistant message of a real OpenAI response to their history as it came, with
 * `refusal: null`, `annotations: []` and the like. Those empty fields are dropped before validation; a field
 * that holds something is kept, and the schema names it.
 */
function withoutEmptyResponseFields(body: Record<string, unknown>): Record<string, unknown> {
  if (!Array.isArray(body.messages)) return body;
  let changed = false;
  const messages = body.messages.map((message: unknown) => {
    if (typeof message !== "object" || message === null) return message;
    const record = message as Record<string, unknown>;
    if (!EMPTY_RESPONSE_FIELDS.some((key) => key in record && isEmpty(record[key]))) return message;
    changed = true;
    const copy = { ...record };
    for (const key of EMPTY_RESPONSE_FIELDS) if (key in copy && isEmpty(copy[key])) delete copy[key];
    return copy;
  });
  return changed ? { ...body, messages } : body;
}

const isSafeInteger = Number.isSafeInteger as (value: unknown) => value is number;

function isIntegerIn(value: unknown, min: number, max: number): boolean {
  return isSafeInteger(value) && (value as number) >= min && (value as number) <= max;
}

function isNumberIn(value: unknown, min: number, max: number): value is number {
  return typeof value === "number" && value >= min && value <= max;
}

function isToolDefinition(value: unknown): boolean {
  if (!isPlainObject(value) || value.type !== "function") return false;
  const fn = value.function;
  if (!isPlainObject(fn) || typeof fn.name !== "string" || fn.name === "") return false;
  if ("description" in fn && typeof fn.description !== "string") return false;
  if ("parameters" in fn && !isJsonObject(fn.parameters)) return false;
  return !("strict" in fn) || fn.strict === null || typeof fn.strict === "boolean";
}

function isToolChoice(value: unknown): boolean {
  if (value === "none" || value === "auto" || value === "required") return true;
  if (!isPlainObject(value) || value.type !== "function") return false;
  const fn = value.function;
  return isPlainObject(fn) && typeof fn.name === "string" && fn.name !== "";
}

/** Whether one field of a request holds what the schema accepts (any field it does not name is kept as sent). */
function isAcceptedField(key: string, value: unknown): boolean {
  switch (key) {
    case "model":
      return typeof value === "string" && value !== "";
    case "messages":
      return Array.isArray(value) && value.length > 0 && arePlainChatMessages(value);
    case "tools":
      return Array.isArray(value) && value.every(isToolDefinition);
    case "tool_choice":
      return isToolChoice(value);
    case "parallel_tool_calls":
      return typeof value === "boolean";
    case "temperature":
      return value === null || isNumberIn(value, 0, 2);
    case "top_p":
      return value === null || (isNumberIn(value, 0, 1) && value !== 0);
    case "max_tokens":
    case "max_completion_tokens":
      return value === null || isIntegerIn(value, 1, Number.MAX_SAFE_INTEGER);
    case "n":
      return value === null || isIntegerIn(value, 1, 128);
    case "seed":
      return value === null || isSafeInteger(value);
    case "stop":
      return (
        value === null ||
        typeof value === "string" ||
        (Array.isArray(value) && value.length <= 4 && value.every((entry) => typeof entry === "string"))
      );
    case "logprobs":
    case "stream":
      return value === null || typeof value === "boolean";
    case "top_logprobs":
      return value === null || isIntegerIn(value, 0, 20);
    case "stream_options":
      return (
        value === null ||
        (isPlainObject(value) && (!("include_usage" in value) || typeof value.include_usage === "boolean"))
      );
    case "__proto__":
      return false;
    default:
      return true;
  }
}

/**
 * The request as it is when the `ChatCompletionRequest` schema would accept it unchanged — the common case of
 * a body fresh from `JSON.parse` — or undefined when zod must decide (and name what is wrong). The schema's
 * output holds the same fields and values (in another key order), so the body itself is returned: it is
 * nobody else's. Its message list is noted as checked (see `checked-messages.ts`).
 */
export function acceptChatRequest(body: Record<string, unknown>): ChatCompletionRequest | undefined {
  if (!isPlainObject(body) || !("model" in body) || !("messages" in body)) return undefined;
  for (const key in body) {
    if (!Object.hasOwn(body, key) || !isAcceptedField(key, body[key])) return undefined;
  }
  // Every message passed isPlainChatMessage: recording the call need not check them again.
  notePlainMessages(body.messages as object);
  return body as ChatCompletionRequest;
}

/** Validates a chat-completions body; a 400 naming the field otherwise. */
export function parseChatRequest(body: unknown): ChatCompletionRequest {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new HttpProblem(400, "The request body must be a JSON object", "invalid_request_error");
  }
  const cleaned = withoutEmptyResponseFields(body as Record<string, unknown>);
  const accepted = acceptChatRequest(cleaned);
  if (accepted) return accepted;
  const parsed = ChatCompletionRequest.safeParse(cleaned);
  if (parsed.success) return parsed.data;
  const error = toInvalidArgumentError(parsed.error, { what: "chat completion request" });
  throw new HttpProblem(400, error.message, "invalid_request_error", error.field === "" ? null : error.field);
}
