import type { ChatMessage, ToolCall } from "@orbiter/types";

/**
 * Conversion of the message lists that GenAI telemetry carries into OpenAI chat messages: the Vercel AI SDK's
 * prompt (`ai.prompt.messages`: text, tool-call and tool-result parts), the OpenTelemetry GenAI semantic
 * conventions' `gen_ai.input.messages` / `gen_ai.output.messages` (`parts` of type text, tool_call,
 * tool_call_response), and the older indexed attributes (`gen_ai.prompt.0.role`, `gen_ai.prompt.0.content`,
 * `gen_ai.completion.0.tool_calls.0.name`, ...) that OpenLLMetry-style instrumentations set.
 */

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function jsonText(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value ?? null);
}

/** The text of a tool result output in the AI SDK's shape (`{ type: "text" | "json" | ..., value }`). */
function toolOutputText(output: unknown): string {
  if (!isObject(output)) return jsonText(output);
  if (output.type === "text" || output.type === "error-text") return String(output.value ?? "");
  if (output.type === "content" && Array.isArray(output.value)) {
    return output.value
      .map((part) => (isObject(part) && typeof part.text === "string" ? part.text : ""))
      .join("");
  }
  return jsonText(output.value);
}

function textOf(parts: unknown[], kinds: ReadonlySet<string>, field: string): string {
  return parts
    .map((part) =>
      isObject(part) && kinds.has(String(part.type)) && typeof part[field] === "string" ? part[field] : "",
    )
    .join("");
}

function assistant(text: string, toolCalls: ToolCall[]): ChatMessage {
  const message: ChatMessage = {
    role: "assistant",
    content: text === "" && toolCalls.length > 0 ? null : text,
  };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  return message;
}

const TEXT = new Set(["text"]);

/** One AI SDK prompt message as OpenAI messages (a tool message holds one result per OpenAI message). */
function fromAiSdkMessage(message: Json): ChatMessage[] {
  const role = message.role;
  const content = message.content;
  if (role === "system") return [{ role: "system", content: jsonText(content) }];
  const parts = Array.isArray(content) ? content : [{ type: "text", text: jsonText(content) }];
  if (role === "user")
    return [{ role: "user", content: typeof content === "string" ? content : textOf(parts, TEXT, "text") }];
  if (role === "assistant") {
    const calls: ToolCall[] = parts
      .filter(isObject)
      .filter((part) => part.type === "tool-call")
      .map((part) => ({
        id: String(part.toolCallId ?? ""),
        type: "function",
        function: { name: String(part.toolName ?? ""), arguments: jsonText(part.input ?? part.args) },
      }));
    return [assistant(typeof content === "string" ? content : textOf(parts, TEXT, "text"), calls)];
  }
  if (role === "tool") {
    return parts
      .filter(isObject)
      .filter((part) => part.type === "tool-result")
      .map((part) => ({
        role: "tool" as const,
        tool_call_id: String(part.toolCallId ?? ""),
        content: toolOutputText(part.output ?? part.result),
      }));
  }
  return [];
}

/** One semantic-conventions message (`{ role, parts }`) as OpenAI messages. */
function fromSemconvMessage(message: Json): ChatMessage[] {
  const parts = Array.isArray(message.parts) ? message.parts.filter(isObject) : [];
  const role = String(message.role);
  const text = textOf(parts, TEXT, "content");
  if (role === "system" || role === "user") return [{ role, content: text }];
  if (role === "assistant") {
    const calls: ToolCall[] = parts
      .filter((part) => part.type === "tool_call")
      .map((part) => ({
        id: String(part.id ?? ""),
        type: "function",
        function: { name: String(part.name ?? ""), arguments: jsonText(part.arguments) },
      }));
    return [assistant(text, calls)];
  }
  if (role === "tool") {
    return parts
      .filter((part) => part.type === "tool_call_response")
      .map((part) => ({
        role: "tool" as const,
        tool_call_id: String(part.id ?? ""),
        content: jsonText(part.response ?? part.result),
      }));
  }
  return [];
}

/** What {@link parseJsonAttribute} returns for a string that is not valid JSON. */
export const NOT_JSON: unique symbol = Symbol("not JSON");

/**
 * A span attribute that may hold JSON text (exporters write structured values either way): the parsed value of a
 * string, the value itself otherwise, and {@link NOT_JSON} for a string that does not parse.
 */
export function parseJsonAttribute(value: unknown): unknown {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value);
  } catch {
    return NOT_JSON;
  }
}

function parseList(value: unknown): Json[] | undefined {
  const parsed = parseJsonAttribute(value);
  return Array.isArray(parsed) ? parsed.filter(isObject) : undefined;
}

/** The messages of indexed attributes under `prefix` (`gen_ai.prompt` or `gen_ai.completion`). */
function indexedMessages(attributes: Record<string, unknown>, prefix: string): ChatMessage[] {
  const out: ChatMessage[] = [];
  for (let index = 0; typeof attributes[`${prefix}.${index}.role`] === "string"; index++) {
    const at = (key: string) => attributes[`${prefix}.${index}.${key}`];
    const role = String(at("role"));
    const content = typeof at("content") === "string" ? (at("content") as string) : "";
    if (role === "assistant") {
      const calls: ToolCall[] = [];
      for (let call = 0; typeof at(`tool_calls.${call}.name`) === "string"; call++) {
        calls.push({
          id: String(at(`tool_calls.${call}.id`) ?? ""),
          type: "function",
          function: {
            name: String(at(`tool_calls.${call}.name`)),
            arguments: jsonText(at(`tool_calls.${call}.arguments`) ?? "{}"),
          },
        });
      }
      out.push(assistant(content, calls));
    } else if (role === "tool") {
      out.push({ role: "tool", tool_call_id: String(at("tool_call_id") ?? ""), content });
    } else if (role === "system" || role === "user" || role === "developer") {
      out.push({ role, content });
    }
  }
  return out;
}

/**
 * The request messages of a span, from `gen_ai.input.messages` (+ system instructions), `ai.prompt.messages`
 * or indexed `gen_ai.prompt.N.*` attributes.
 */
export function requestMessages(attributes: Record<string, unknown>): ChatMessage[] {
  const semconv = parseList(attributes["gen_ai.input.messages"]);
  if (semconv) {
    const system = attributes["gen_ai.system_instructions"];
    const instructions = parseList(system);
    const out: ChatMessage[] = [];
    if (instructions) out.push({ role: "system", content: textOf(instructions, TEXT, "content") });
    else if (typeof system === "string" && system !== "") out.push({ role: "system", content: system });
    return [...out, ...semconv.flatMap(fromSemconvMessage)];
  }
  const aiSdk = parseList(attributes["ai.prompt.messages"]);
  return aiSdk ? aiSdk.flatMap(fromAiSdkMessage) : indexedMessages(attributes, "gen_ai.prompt");
}

/**
 * The assistant message of a span, from `gen_ai.output.messages`, `ai.response.text` / `ai.response.toolCalls`
 * or indexed `gen_ai.completion.N.*` attributes.
 */
export function responseMessage(attributes: Record<string, unknown>): ChatMessage | undefined {
  const semconv = parseList(attributes["gen_ai.output.messages"]);
  if (semconv) return semconv.flatMap(fromSemconvMessage).find((message) => message.role === "assistant");
  const text = attributes["ai.response.text"];
  const calls = parseList(attributes["ai.response.toolCalls"]) ?? [];
  if (typeof text !== "string" && calls.length === 0) {
    return indexedMessages(attributes, "gen_ai.completion").find((message) => message.role === "assistant");
  }
  return assistant(
    typeof text === "string" ? text : "",
    calls.map((call) => ({
      id: String(call.toolCallId ?? ""),
      type: "function",
      function: { name: String(call.toolName ?? ""), arguments: jsonText(call.input ?? call.args) },
    })),
  );
}
