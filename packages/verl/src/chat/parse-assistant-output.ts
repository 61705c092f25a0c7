import { type ChatMessage, InvalidArgumentError, type ToolCall } from "@orbiter/types";
import { CHAT_MARKERS, isChatMarker } from "./chat-template.js";

/** A run of chat-format text: a marker, or literal text (escapes removed). */
type Piece = { marker: string } | { text: string };

/** Splits chat-format text into markers and literal text; an escape makes the next character literal. */
function pieces(text: string): Piece[] {
  const out: Piece[] = [];
  let run = "";
  let escaped = false;
  for (const character of text) {
    if (escaped) {
      run += character;
      escaped = false;
    } else if (character === CHAT_MARKERS.escape) {
      escaped = true;
    } else if (isChatMarker(character)) {
      if (run !== "") out.push({ text: run });
      run = "";
      out.push({ marker: character });
    } else {
      run += character;
    }
  }
  if (run !== "") out.push({ text: run });
  return out;
}

/** What {@link parseAssistantOutput} returns. */
export interface ParsedAssistantOutput {
  /** The OpenAI assistant message: `content` (null when there is only tool calls) and/or `tool_calls`. */
  message: ChatMessage & { role: "assistant" };
  /**
   * Tool calls that could not be read (no name, no `ARGS` marker, arguments that are not a JSON object). When
   * there is any, the whole output is returned as text `content` and `tool_calls` is left out.
   */
  malformedToolCalls: number;
}

/** Options of {@link parseAssistantOutput}. */
export interface ParseAssistantOutputOptions {
  /** Tool-call ids are `${idPrefix}${firstCallIndex + k}`. @default "call_" */
  idPrefix?: string;
  /** Number of the first call (count the calls earlier in the conversation to keep ids unique). @default 0 */
  firstCallIndex?: number;
}

/** A tool-call name the OpenAI format accepts: no marker, no whitespace at either end, not empty. */
function isValidName(name: string): boolean {
  return name.length > 0 && name.trim() === name;
}

/** Whether `text` is the JSON of an object (tool arguments must be one). */
function isJsonObject(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === "object" && !Array.isArray(value);
  } catch {
    return false;
  }
}

/**
 * Turns the text the policy produced for an assistant message (after the `ASSISTANT` marker, up to but without
 * `END`) into an OpenAI assistant message: the text before the first `CALL` marker is `content`, each
 * `CALL name ARGS arguments` a tool call. Never throws on model output: when a call is malformed, the whole
 * output comes back as text content (markers dropped) and is counted in `malformedToolCalls`.
 *
 * @example
 * ```ts
 * parseAssistantOutput('\uE004weather\uE005{"city":"Oslo"}').message.tool_calls?.[0]?.function.name; // "weather"
 * ```
 */
export function parseAssistantOutput(
  text: string,
  options: ParseAssistantOutputOptions = {},
): ParsedAssistantOutput {
  const idPrefix = options.idPrefix ?? "call_";
  const first = options.firstCallIndex ?? 0;
  const parts = pieces(text);
  let content = "";
  const calls: Array<{ name: string; args: string | undefined }> = [];
  let malformed = 0;
  let current: { name: string; args: string | undefined } | undefined;
  let plain = "";
  for (const piece of parts) {
    if ("text" in piece) {
      plain += piece.text;
      if (current === undefined) content += piece.text;
      else if (current.args === undefined) current.name += piece.text;
      else current.args += piece.text;
    } else if (piece.marker === CHAT_MARKERS.call) {
      current = { name: "", args: undefined };
      calls.push(current);
    } else if (piece.marker === CHAT_MARKERS.args && current !== undefined && current.args === undefined) {
      current.args = "";
    } else {
      // Any other marker inside a tool call (or a second ARGS) is out of place: the call is malformed. Before the
      // first call such a marker is dropped from the text.
      if (current !== undefined) malformed++;
    }
  }
  for (const call of calls) {
    if (!isValidName(call.name) || call.args === undefined || !isJsonObject(call.args)) malformed++;
  }
  if (malformed > 0) {
    return { message: { role: "assistant", content: plain }, malformedToolCalls: malformed };
  }
  if (calls.length === 0) return { message: { role: "assistant", content }, malformedToolCalls: 0 };
  const toolCalls: ToolCall[] = calls.map((call, k) => ({
    id: `${idPrefix}${first + k}`,
    type: "function",
    function: { name: call.name, arguments: call.args as string },
  }));
  return {
    message: { role: "assistant", content: content === "" ? null : content, tool_calls: toolCalls },
    malformedToolCalls: 0,
  };
}

const ROLE_OF_MARKER = new Map<string, ChatMessage["role"]>([
  [CHAT_MARKERS.system, "system"],
  [CHAT_MARKERS.developer, "developer"],
  [CHAT_MARKERS.user, "user"],
  [CHAT_MARKERS.assistant, "assistant"],
  [CHAT_MARKERS.tool, "tool"],
]);

/**
 * Reads a whole conversation written by `renderChat` back into messages (a leading tools list is skipped).
 * Tool calls are numbered `call_0, call_1, …` through the conversation and each tool result takes the id of the
 * oldest call not answered yet. Content comes back as a string (text parts joined).
 *
 * @throws InvalidArgumentError naming the message when the text is not in the chat format
 */
export function parseChat(text: string): ChatMessage[] {
  const messages: ChatMessage[] = [];
  const pending: string[] = [];
  let callCount = 0;
  let index = 0;
  let position = 0;
  // Split at unescaped END markers, keeping each message's raw (still escaped) text.
  const raw: string[] = [];
  let start = 0;
  let escaped = false;
  for (const character of text) {
    const width = character.length;
    if (!escaped && character === CHAT_MARKERS.end) {
      raw.push(text.slice(start, position));
      start = position + width;
    }
    escaped = !escaped && character === CHAT_MARKERS.escape;
    position += width;
  }
  if (start < text.length) {
    throw new InvalidArgumentError("The chat text ends inside a message (no END marker)", {
      field: `messages[${raw.length}]`,
    });
  }
  for (const body of raw) {
    const marker = body.slice(0, 1);
    if (marker === CHAT_MARKERS.tools && index === 0 && messages.length === 0) continue;
    const role = ROLE_OF_MARKER.get(marker);
    if (role === undefined) {
      throw new InvalidArgumentError("A message does not start with a role marker", {
        field: `messages[${index}]`,
      });
    }
    const rest = body.slice(1);
    if (role === "assistant") {
      const parsed = parseAssistantOutput(rest, { firstCallIndex: callCount });
      for (const call of parsed.message.tool_calls ?? []) pending.push(call.id);
      callCount += parsed.message.tool_calls?.length ?? 0;
      messages.push(parsed.message);
    } else {
      const content = pieces(rest)
        .map((piece) => ("text" in piece ? piece.text : ""))
        .join("");
      const message: ChatMessage = { role, content };
      if (role === "tool") {
        const id = pending.shift();
        if (id !== undefined) message.tool_call_id = id;
      }
      messages.push(message);
    }
    index++;
  }
  return messages;
}
