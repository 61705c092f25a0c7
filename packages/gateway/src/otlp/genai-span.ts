import {
  ChatCompletionRequest,
  type ChatCompletionResult,
  type FinishReason,
  formatPath,
  type ToolDefinition,
} from "@orbiter/types";
import type { RecordedCall } from "../episodes/gateway-episode.js";
import { NOT_JSON, parseJsonAttribute, requestMessages, responseMessage } from "./genai-messages.js";
import type { OtlpSpan } from "./otlp-json.js";

/** Operations of the GenAI conventions that are model calls. */
const CALL_OPERATIONS = new Set(["chat", "text_completion", "generate_content"]);

/** Attributes that name a rollout explicitly (set by the user through resource or telemetry metadata). */
const ROLLOUT_ATTRIBUTES = [
  "orbiter.rollout_id",
  "ai.telemetry.metadata.rolloutId",
  "ai.telemetry.metadata.orbiter.rollout_id",
];

/** True for a span that is one model call under the GenAI conventions. */
export function isModelCallSpan(span: OtlpSpan): boolean {
  const operation = span.attributes["gen_ai.operation.name"];
  if (typeof operation === "string") return CALL_OPERATIONS.has(operation);
  return typeof span.attributes["gen_ai.request.model"] === "string";
}

/** The rollout a span names explicitly, if any. */
export function explicitRolloutId(span: OtlpSpan): string | undefined {
  for (const key of ROLLOUT_ATTRIBUTES) {
    const value = span.attributes[key];
    if (typeof value === "string" && value !== "") return value;
  }
  return undefined;
}

function finishReason(value: unknown, hasToolCalls: boolean): FinishReason {
  const first = Array.isArray(value) ? value[0] : value;
  const normalised = typeof first === "string" ? first.replace("-", "_") : "";
  if (["stop", "length", "tool_calls", "content_filter"].includes(normalised))
    return normalised as FinishReason;
  return hasToolCalls ? "tool_calls" : "stop";
}

function tools(value: unknown): ToolDefinition[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const out: ToolDefinition[] = [];
  for (const entry of value) {
    const parsed = parseJsonAttribute(entry);
    if (parsed === NOT_JSON) continue;
    const tool = parsed as Record<string, unknown>;
    if (typeof tool?.name !== "string") continue;
    out.push({
      type: "function",
      function: {
        name: tool.name,
        ...(typeof tool.description === "string" ? { description: tool.description } : {}),
        ...(typeof tool.inputSchema === "object" && tool.inputSchema !== null
          ? { parameters: tool.inputSchema as Record<string, never> }
          : {}),
      },
    });
  }
  return out.length > 0 ? out : undefined;
}

function toolChoice(value: unknown): ChatCompletionRequest["tool_choice"] {
  const parsed = parseJsonAttribute(value);
  if (parsed === NOT_JSON) return undefined;
  const choice = parsed as { type?: string; toolName?: string } | undefined;
  if (choice?.type === "auto" || choice?.type === "none" || choice?.type === "required") return choice.type;
  if (choice?.type === "tool" && typeof choice.toolName === "string") {
    return { type: "function", function: { name: choice.toolName } };
  }
  return undefined;
}

function number(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/** A model-call span as the parts of a {@link RecordedCall}, or the reason it cannot be one. */
export type SpanCall =
  | { ok: true; call: Omit<RecordedCall, "rolloutId" | "index"> }
  | { ok: false; reason: string };

/**
 * Reads one GenAI model-call span: the request (model, messages, tools, tool choice, sampling settings), the
 * assistant message, finish reason, usage and ids, the span's status (ERROR → a failed call) and timing.
 */
export function spanToCall(span: OtlpSpan): SpanCall {
  const a = span.attributes;
  const model = a["gen_ai.request.model"] ?? a["ai.model.id"];
  const raw: Record<string, unknown> = {
    model: typeof model === "string" && model !== "" ? model : "unknown",
    messages: requestMessages(a),
  };
  const offered = tools(a["ai.prompt.tools"]);
  if (offered) raw.tools = offered;
  const choice = toolChoice(a["ai.prompt.toolChoice"]);
  if (choice !== undefined) raw.tool_choice = choice;
  const settings: Array<[string, unknown]> = [
    ["temperature", number(a["gen_ai.request.temperature"])],
    ["top_p", number(a["gen_ai.request.top_p"])],
    ["max_tokens", number(a["gen_ai.request.max_tokens"])],
    ["seed", number(a["gen_ai.request.seed"])],
  ];
  for (const [key, value] of settings) if (value !== undefined) raw[key] = value;
  const parsed = ChatCompletionRequest.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = formatPath(issue?.path ?? []);
    const hint = field === "messages" ? " (the span records no input messages: enable recordInputs)" : "";
    return {
      ok: false,
      reason: `span ${span.spanId} "${span.name}": ${field || "request"}: ${issue?.message}${hint}`,
    };
  }
  const failed = span.statusCode === 2;
  const message = responseMessage(a);
  let result: ChatCompletionResult | undefined;
  if (message && message.role === "assistant") {
    result = {
      model: typeof a["gen_ai.response.model"] === "string" ? a["gen_ai.response.model"] : parsed.data.model,
      choices: [
        {
          index: 0,
          message: message as ChatCompletionResult["choices"][number]["message"],
          finishReason: finishReason(
            a["gen_ai.response.finish_reasons"] ?? a["gen_ai.completion.0.finish_reason"],
            (message.tool_calls?.length ?? 0) > 0,
          ),
        },
      ],
    };
    if (typeof a["gen_ai.response.id"] === "string") result.id = a["gen_ai.response.id"];
    // The current names, then the older ones some instrumentations still set.
    const input = number(a["gen_ai.usage.input_tokens"] ?? a["gen_ai.usage.prompt_tokens"]);
    const output = number(a["gen_ai.usage.output_tokens"] ?? a["gen_ai.usage.completion_tokens"]);
    if (input !== undefined || output !== undefined) {
      result.usage = {
        promptTokens: input ?? 0,
        completionTokens: output ?? 0,
        totalTokens: (input ?? 0) + (output ?? 0),
      };
    }
  }
  if (!failed && !result) {
    return {
      ok: false,
      reason: `span ${span.spanId} "${span.name}": no output message (enable recordOutputs)`,
    };
  }
  const call: Omit<RecordedCall, "rolloutId" | "index"> = {
    request: parsed.data,
    status: failed ? "error" : "ok",
    streamed: span.name.includes("doStream") || a["ai.response.msToFirstChunk"] !== undefined,
    startedAt: span.startTimeMs,
    latencyMs: Math.max(0, span.endTimeMs - span.startTimeMs),
    source: "otlp",
  };
  if (result) call.result = result;
  if (failed) call.error = { message: span.statusMessage ?? "the span's status is ERROR" };
  return { ok: true, call };
}
