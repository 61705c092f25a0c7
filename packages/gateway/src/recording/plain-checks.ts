import type { ChatMessage, JsonObject } from "@orbiter/types";

/**
 * Cheap checks that let the gateway skip a zod parse on its per-call path — of the request
 * (`parseChatRequest`) and of the call's trajectory item (`callToItem`). Each check is conservative: it
 * answers true only for values it can check completely (plain objects and arrays, finite numbers other than
 * -0, the exact keys of the schema), and false for anything else — which then takes the schema's path, so an
 * odd value is judged (and named) by zod exactly as before.
 *
 * Why -0 is left out, when `@orbiter/trajectory`'s item validator (the same idea: "is this exactly what the
 * schema accepts?") lets it through: both keep a -0 as -0, which is right for a JSON record — JSON text may
 * say `-0` and `JSON.parse("-0")` gives -0 back, only `JSON.stringify` writes it as `0`. The trajectory
 * validator can keep it because it notes the items holding a -0 for its writer, which then writes `-0` (a
 * bookkeeping internal to that package). The gateway cannot make that note, so an item holding a -0 goes
 * through `captureMessages`, whose validation does (tested in `call-item.test.ts`). The two checks also differ
 * in purpose: this one answers yes or no for a value used as it is; the trajectory one copies an item into the
 * schema's key order.
 */

/** True for an object made by a literal or `JSON.parse` (its prototype is Object.prototype). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

function isJsonValue(value: unknown): boolean {
  switch (typeof value) {
    case "string":
    case "boolean":
      return true;
    case "number":
      // -0 is left to the schema path, which notes it so the file keeps its sign (see the comment at the top).
      return Number.isFinite(value) && !(value === 0 && 1 / value < 0);
    case "object":
      if (value === null) return true;
      if (Array.isArray(value)) {
        for (let index = 0; index < value.length; index++) if (!isJsonValue(value[index])) return false;
        return true;
      }
      return isJsonObject(value);
    default:
      return false;
  }
}

/** True when `value` is a plain JSON object (string keys, finite numbers other than -0, nothing undefined). */
export function isJsonObject(value: unknown): value is JsonObject {
  if (!isPlainObject(value) || Object.getOwnPropertySymbols(value).length > 0) return false;
  for (const key in value) {
    if (!Object.hasOwn(value, key) || key === "__proto__" || !isJsonValue(value[key])) return false;
  }
  return true;
}

function isToolCall(value: unknown): boolean {
  if (!isPlainObject(value)) return false;
  for (const key in value) if (key !== "id" && key !== "type" && key !== "function") return false;
  const { id, type, function: fn } = value;
  if (typeof id !== "string" || type !== "function" || !isPlainObject(fn)) return false;
  for (const key in fn) if (key !== "name" && key !== "arguments") return false;
  return typeof fn.name === "string" && fn.name.length > 0 && typeof fn.arguments === "string";
}

const ROLES: ReadonlySet<unknown> = new Set(["system", "developer", "user", "assistant", "tool"]);

function isTextParts(value: unknown): boolean {
  if (!Array.isArray(value)) return false;
  for (const part of value) {
    if (!isPlainObject(part)) return false;
    for (const key in part) if (key !== "type" && key !== "text") return false;
    if (part.type !== "text" || typeof part.text !== "string") return false;
  }
  return true;
}

/**
 * True when `value` is a message the `ChatMessage` schema accepts as it is: a known role, `content` a string,
 * null or text parts (or absent), tool calls complete, no other key and no key holding undefined.
 */
export function isPlainChatMessage(value: unknown): value is ChatMessage {
  if (!isPlainObject(value) || !ROLES.has(value.role)) return false;
  for (const key in value) {
    const field = value[key];
    switch (key) {
      case "role":
        break;
      case "content":
        if (field !== null && typeof field !== "string" && !isTextParts(field)) return false;
        break;
      case "name":
      case "tool_call_id":
        if (typeof field !== "string") return false;
        break;
      case "tool_calls":
        if (!Array.isArray(field)) return false;
        for (const call of field) if (!isToolCall(call)) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** True when every message of `messages` passes {@link isPlainChatMessage}. */
export function arePlainChatMessages(messages: ReadonlyArray<unknown>): boolean {
  for (const message of messages) if (!isPlainChatMessage(message)) return false;
  return true;
}
