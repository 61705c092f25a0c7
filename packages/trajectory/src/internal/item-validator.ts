import {
  type ChatMessage,
  type JsonObject,
  type JsonValue,
  type ParseContext,
  parseWith,
  randomUuid,
  TrajectoryItem,
} from "@orbiter/types";
import { containsNegativeZero, isNegativeZero, markNegativeZero } from "./negative-zero.js";

/**
 * Validation of trajectory items, exactly as strict as the `TrajectoryItem` zod schema but several times faster.
 *
 * The fast path below is a hand-written copy of the schema that is deliberately conservative: it accepts only
 * ordinary inputs (plain objects and arrays, as written in code or produced by `JSON.parse`) that it can check
 * completely, and answers {@link BAIL} on anything else — an invalid field, a class instance, a symbol key, a
 * `__proto__` key. A bail hands the input to zod, which then either accepts it or throws the error naming the
 * field. So the fast path never decides a rejection and never accepts what zod would reject; its output equals
 * zod's output in canonical form (keys in schema order, no keys holding `undefined`). A property test
 * (`item-validator.test.ts`) keeps the two in lock-step on random inputs.
 */

/** What the fast path answers when it cannot decide alone. */
export const BAIL = undefined;

/** Top-level keys of the `TrajectoryItem` schema, in schema order. */
export const ITEM_KEYS = [
  "id",
  "timestamp",
  "state",
  "action",
  "reward",
  "metadata",
  "taskId",
  "agentId",
  "episodeId",
  "step",
  "status",
  "messages",
] as const;

/** Keys of the `ChatMessage` schema, in schema order. */
export const MESSAGE_KEYS = ["role", "content", "name", "tool_calls", "tool_call_id"] as const;

const messageKeys: ReadonlySet<string> = new Set(MESSAGE_KEYS);
const roles: ReadonlySet<unknown> = new Set(["system", "developer", "user", "assistant", "tool"]);

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Set while a metadata tree is copied, when a `-0` is met. */
let sawNegativeZero = false;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function isSafeNonNegativeInteger(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

/**
 * Whether a value other than an object or null is a JSON primitive (a string, a boolean, a finite number); a -0 is
 * noted in `sawNegativeZero`. The one rule of {@link copyJsonValue} and {@link isJsonValue} for primitives.
 */
function isJsonPrimitive(value: unknown): boolean {
  switch (typeof value) {
    case "string":
    case "boolean":
      return true;
    case "number":
      if (!Number.isFinite(value)) return false;
      if (value === 0 && isNegativeZero(value)) sawNegativeZero = true;
      return true;
    default:
      return false;
  }
}

/** Copies a JSON value (zod `z.json()`), or bails. */
function copyJsonValue(value: unknown): JsonValue | undefined {
  if (typeof value !== "object") return isJsonPrimitive(value) ? (value as JsonValue) : BAIL;
  if (value === null) return null;
  if (Array.isArray(value)) {
    const length = value.length;
    const out: JsonValue[] = new Array(length);
    for (let index = 0; index < length; index++) {
      const element = copyJsonValue(value[index]);
      if (element === BAIL) return BAIL;
      out[index] = element;
    }
    return out;
  }
  return copyJsonObject(value);
}

/** Copies a JSON object (zod `z.record(z.string(), z.json())`: own enumerable string keys), or bails. */
function copyJsonObject(value: unknown): JsonObject | undefined {
  if (!isPlainObject(value)) return BAIL;
  if (Object.getOwnPropertySymbols(value).length > 0) return BAIL;
  const out: JsonObject = {};
  for (const key of Object.keys(value)) {
    if (key === "__proto__") return BAIL;
    const element = copyJsonValue(value[key]);
    if (element === BAIL) return BAIL;
    out[key] = element;
  }
  return out;
}

/** Checks a JSON value like {@link copyJsonValue}, without copying: for objects fresh from `JSON.parse`. */
function isJsonValue(value: unknown): boolean {
  if (typeof value !== "object") return isJsonPrimitive(value);
  if (value === null) return true;
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) if (!isJsonValue(value[index])) return false;
    return true;
  }
  return isJsonObject(value);
}

/** Checks a JSON object like {@link copyJsonObject}, without copying. */
function isJsonObject(value: unknown): value is JsonObject {
  if (!isPlainObject(value)) return false;
  if (Object.getOwnPropertySymbols(value).length > 0) return false;
  for (const key of Object.keys(value)) {
    if (key === "__proto__" || !isJsonValue(value[key])) return false;
  }
  return true;
}

/** Position of each top-level key in schema order. */
const itemKeyOrder: ReadonlyMap<string, number> = new Map(ITEM_KEYS.map((key, index) => [key, index]));

/**
 * True when every enumerable key of `input` is a schema key and they come in schema order (as our writers
 * write them); false when they are out of order; undefined when a key is unknown.
 */
function keysInSchemaOrder(input: Record<string, unknown>): boolean | undefined {
  let next = 0;
  let ordered = true;
  for (const key in input) {
    const position = itemKeyOrder.get(key);
    if (position === undefined) return undefined;
    if (position < next) ordered = false;
    next = position + 1;
  }
  return ordered;
}

/** True when every enumerable key of `value` (own or inherited, as zod's strict objects see them) is allowed. */
function hasOnlyKeys(value: Record<string, unknown>, allowed: ReadonlySet<string>): boolean {
  for (const key in value) if (!allowed.has(key)) return false;
  return true;
}

function hasOnlyTextPartKeys(value: Record<string, unknown>): boolean {
  for (const key in value) if (key !== "type" && key !== "text") return false;
  return true;
}

const BAIL_CONTENT = Symbol("bail");

function copyContent(content: unknown): ChatMessage["content"] | undefined | typeof BAIL_CONTENT {
  if (content === undefined || content === null || typeof content === "string") return content;
  if (!Array.isArray(content)) return BAIL_CONTENT;
  const out: Array<{ type: "text"; text: string }> = new Array(content.length);
  for (let index = 0; index < content.length; index++) {
    const part: unknown = content[index];
    if (!isPlainObject(part) || !hasOnlyTextPartKeys(part)) return BAIL_CONTENT;
    const { type, text } = part;
    if (type !== "text" || typeof text !== "string") return BAIL_CONTENT;
    out[index] = { type: "text", text };
  }
  return out;
}

function copyToolCalls(calls: unknown): ChatMessage["tool_calls"] | undefined | typeof BAIL_CONTENT {
  if (calls === undefined) return undefined;
  if (!Array.isArray(calls)) return BAIL_CONTENT;
  const out: NonNullable<ChatMessage["tool_calls"]> = new Array(calls.length);
  for (let index = 0; index < calls.length; index++) {
    const call: unknown = calls[index];
    if (!isPlainObject(call)) return BAIL_CONTENT;
    for (const key in call) if (key !== "id" && key !== "type" && key !== "function") return BAIL_CONTENT;
    const { id, type, function: fn } = call;
    if (typeof id !== "string" || type !== "function" || !isPlainObject(fn)) return BAIL_CONTENT;
    for (const key in fn) if (key !== "name" && key !== "arguments") return BAIL_CONTENT;
    const { name, arguments: args } = fn;
    if (typeof name !== "string" || name.length === 0 || typeof args !== "string") return BAIL_CONTENT;
    out[index] = { id, type: "function", function: { name, arguments: args } };
  }
  return out;
}

function copyMessage(value: unknown): ChatMessage | undefined {
  if (!isPlainObject(value) || !hasOnlyKeys(value, messageKeys)) return BAIL;
  const role = value.role;
  if (!roles.has(role)) return BAIL;
  const content = copyContent(value.content);
  if (content === BAIL_CONTENT) return BAIL;
  const name = value.name;
  if (name !== undefined && typeof name !== "string") return BAIL;
  const toolCalls = copyToolCalls(value.tool_calls);
  if (toolCalls === BAIL_CONTENT) return BAIL;
  const toolCallId = value.tool_call_id;
  if (toolCallId !== undefined && typeof toolCallId !== "string") return BAIL;
  const out: Mutable<ChatMessage> = { role: role as ChatMessage["role"] };
  if (content !== undefined) out.content = content;
  if (name !== undefined) out.name = name;
  if (toolCalls !== undefined) out.tool_calls = toolCalls;
  if (toolCallId !== undefined) out.tool_call_id = toolCallId;
  return out;
}

/**
 * The fast path: the validated item in canonical form, or {@link BAIL} when zod must decide. Fills in `id`
 * (random UUID, as a flat string: see `randomUuid` in @orbiter/types), `timestamp` (`Date.now()`) and `metadata` (`{}`) when
 * they are absent, like the schema.
 */
export function fastValidateItem(input: unknown, adopt = false): TrajectoryItem | undefined {
  if (!isPlainObject(input)) return BAIL;
  const ordered = keysInSchemaOrder(input);
  if (ordered === undefined) return BAIL;
  const { state, action, reward } = input;
  if (typeof state !== "string" || typeof action !== "string") return BAIL;
  if (typeof reward !== "number" || !Number.isFinite(reward)) return BAIL;

  // Each property is read once, as zod does (a getter must not be able to answer differently twice).
  const givenId = input.id;
  let id: string;
  if (givenId === undefined) id = randomUuid();
  else if (typeof givenId === "string" && givenId.length > 0) id = givenId;
  else return BAIL;
  const givenTimestamp = input.timestamp;
  let timestamp: number;
  if (givenTimestamp === undefined) timestamp = Date.now();
  else if (isSafeNonNegativeInteger(givenTimestamp)) timestamp = givenTimestamp;
  else return BAIL;

  sawNegativeZero = false;
  const givenMetadata = input.metadata;
  let metadata: JsonObject | undefined;
  if (givenMetadata === undefined) metadata = {};
  else if (adopt) {
    if (!isJsonObject(givenMetadata)) return BAIL;
    metadata = givenMetadata;
  } else {
    metadata = copyJsonObject(givenMetadata);
    if (metadata === BAIL) return BAIL;
  }
  const negativeZero = sawNegativeZero;

  const { taskId, agentId, episodeId, step, status, messages } = input;
  if (taskId !== undefined && typeof taskId !== "string") return BAIL;
  if (agentId !== undefined && typeof agentId !== "string") return BAIL;
  if (episodeId !== undefined && typeof episodeId !== "string") return BAIL;
  if (step !== undefined && !isSafeNonNegativeInteger(step)) return BAIL;
  if (status !== undefined && typeof status !== "string") return BAIL;
  let copiedMessages: ChatMessage[] | undefined;
  if (messages !== undefined) {
    if (!Array.isArray(messages)) return BAIL;
    copiedMessages = new Array(messages.length);
    for (let index = 0; index < messages.length; index++) {
      const message = copyMessage(messages[index]);
      if (message === BAIL) return BAIL;
      copiedMessages[index] = message;
    }
  }

  let item: Mutable<TrajectoryItem>;
  if (
    adopt &&
    ordered &&
    givenId !== undefined &&
    givenTimestamp !== undefined &&
    givenMetadata !== undefined &&
    messages === undefined &&
    !holdsUndefined(input)
  ) {
    // Already canonical (complete, keys in schema order, nothing holding undefined — JSON has no undefined):
    // keep the parsed object itself rather than copy it.
    item = input as Mutable<TrajectoryItem>;
  } else {
    item = buildItem(
      id,
      timestamp,
      state,
      action,
      reward,
      metadata,
      taskId,
      agentId,
      episodeId,
      step,
      status,
      copiedMessages,
    );
  }
  if (
    negativeZero ||
    (reward === 0 && isNegativeZero(reward)) ||
    (timestamp === 0 && isNegativeZero(timestamp)) ||
    (step === 0 && isNegativeZero(step as number))
  ) {
    markNegativeZero(item);
  }
  return item;
}

function holdsUndefined(input: Record<string, unknown>): boolean {
  for (const key in input) if (input[key] === undefined) return true;
  return false;
}

/**
 * A new item with keys in schema order and no key holding `undefined`. Whole object literals for the two
 * common shapes keep every property in-object (one allocation, no growing property store), which matters at a
 * million items: retained objects dominate the cost of capture.
 */
function buildItem(
  id: string,
  timestamp: number,
  state: string,
  action: string,
  reward: number,
  metadata: JsonObject,
  taskId: unknown,
  agentId: unknown,
  episodeId: unknown,
  step: unknown,
  status: unknown,
  messages: ChatMessage[] | undefined,
): Mutable<TrajectoryItem> {
  let item: Mutable<TrajectoryItem>;
  const optionalCount =
    (taskId === undefined ? 0 : 1) +
    (agentId === undefined ? 0 : 1) +
    (episodeId === undefined ? 0 : 1) +
    (step === undefined ? 0 : 1) +
    (status === undefined ? 0 : 1);
  if (messages === undefined && optionalCount === 5) {
    item = {
      id,
      timestamp,
      state,
      action,
      reward,
      metadata,
      taskId: taskId as string,
      agentId: agentId as string,
      episodeId: episodeId as string,
      step: step as number,
      status: status as string,
    };
  } else {
    item = { id, timestamp, state, action, reward, metadata };
    if (taskId !== undefined) item.taskId = taskId as string;
    if (agentId !== undefined) item.agentId = agentId as string;
    if (episodeId !== undefined) item.episodeId = episodeId as string;
    if (step !== undefined) item.step = step as number;
    if (status !== undefined) item.status = status as string;
    if (messages !== undefined) item.messages = messages;
  }
  return item;
}

/**
 * Validates a trajectory item: the fast path when it can decide, zod otherwise. Returns the item in canonical
 * form; throws `InvalidArgumentError` naming the field. The input is never mutated and, unless `adopt` is set,
 * never kept: `adopt` is for values fresh from `JSON.parse` that nothing else references, whose objects may then
 * become (part of) the stored item instead of being copied.
 */
export function validateItem(input: unknown, context: ParseContext, adopt = false): TrajectoryItem {
  const fast = fastValidateItem(input, adopt);
  if (fast !== BAIL) return fast;
  const parsed = parseWith(TrajectoryItem, input, context);
  // zod's output is made of plain objects and valid values, so the fast path canonicalises it (drops keys that
  // hold `undefined`, records `-0` in metadata). The fallback below only guards against a future schema change.
  const canonical = fastValidateItem(parsed);
  if (canonical !== BAIL) return canonical;
  if (containsNegativeZero(parsed)) markNegativeZero(parsed);
  return parsed;
}
