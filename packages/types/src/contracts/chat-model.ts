import { z } from "zod";
import { ChatMessage, ToolCall } from "../schemas/chat-message.js";
import { JsonObject } from "../schemas/json.js";

/**
 * A tool the model may call, in the OpenAI chat-completions format: a function with a JSON-schema
 * `parameters` object.
 */
export const ToolDefinition = z.looseObject({
  type: z.literal("function"),
  function: z.looseObject({
    name: z.string().min(1),
    description: z.string().optional(),
    /** JSON schema of the arguments object. */
    parameters: JsonObject.optional(),
    strict: z.boolean().nullable().optional(),
  }),
});
/** A tool the model may call, in the OpenAI chat-completions format. */
export type ToolDefinition = z.infer<typeof ToolDefinition>;

/** How the model may use tools: `"none"`, `"auto"`, `"required"` or one named function. */
export const ToolChoice = z.union([
  z.enum(["none", "auto", "required"]),
  z.looseObject({ type: z.literal("function"), function: z.looseObject({ name: z.string().min(1) }) }),
]);
/** How the model may use tools. */
export type ToolChoice = z.infer<typeof ToolChoice>;

/**
 * A chat-completions request, as an OpenAI-compatible client sends it. The fields below are checked; any other
 * field (`response_format`, `user`, vendor extensions, …) is kept as sent so it can be forwarded unchanged.
 */
export const ChatCompletionRequest = z.looseObject({
  model: z.string().min(1),
  messages: z.array(ChatMessage).min(1),
  tools: z.array(ToolDefinition).optional(),
  tool_choice: ToolChoice.optional(),
  parallel_tool_calls: z.boolean().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().gt(0).max(1).nullable().optional(),
  max_tokens: z.number().int().positive().nullable().optional(),
  max_completion_tokens: z.number().int().positive().nullable().optional(),
  /** Number of choices to sample. @default 1 */
  n: z.number().int().min(1).max(128).nullable().optional(),
  seed: z.number().int().nullable().optional(),
  stop: z
    .union([z.string(), z.array(z.string()).max(4)])
    .nullable()
    .optional(),
  logprobs: z.boolean().nullable().optional(),
  top_logprobs: z.number().int().min(0).max(20).nullable().optional(),
  stream: z.boolean().nullable().optional(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional(),
});
/** A chat-completions request (validated fields typed, the rest kept as sent). */
export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequest>;

/** Why a choice stopped: the OpenAI finish reasons. */
export const FinishReason = z.enum(["stop", "length", "tool_calls", "content_filter", "function_call"]);
/** Why a choice stopped. */
export type FinishReason = z.infer<typeof FinishReason>;

/** Token counts of one call. */
export interface ChatUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

/** One sampled answer of a call. */
export interface ChatChoice {
  /** Position among the call's `n` choices, from 0. */
  index: number;
  /** The assistant message: `content` and/or `tool_calls` (arguments as JSON strings). */
  message: ChatMessage & { role: "assistant" };
  finishReason: FinishReason;
  /** The token ids the sampler drew for this choice, when the model has them (in-process policies do). */
  tokenIds?: number[];
  /** Log-probability of each drawn token under the sampling distribution, aligned with `tokenIds`. */
  tokenLogprobs?: number[];
  /**
   * The OpenAI `logprobs` object of the choice as the model returned it (`{ content: [{ token, logprob,
   * top_logprobs }] }`), passed through unchanged to the client.
   */
  logprobs?: JsonObject | null;
}

/** The result of one chat-completions call. */
export interface ChatCompletionResult {
  /** The model's id for the completion, when it gives one. */
  id?: string;
  /** The model that answered. */
  model: string;
  choices: ChatChoice[];
  usage?: ChatUsage;
  /** The token ids of the rendered prompt, when the model has them (in-process policies do). */
  promptTokenIds?: number[];
}

/** A part of a tool call as it streams: the first delta of a call carries its id and name. */
export interface ToolCallDelta {
  /** Position of the call among the choice's tool calls. */
  index: number;
  id?: string;
  type?: "function";
  function?: { name?: string; arguments?: string };
}

/**
 * One event of a streamed call: text or tool-call fragments of a choice, then one `done` event whose result is
 * the whole call (what a non-streaming call would have returned).
 */
export type ChatStreamEvent =
  | {
      type: "delta";
      choiceIndex: number;
      content?: string;
      toolCalls?: ToolCallDelta[];
      /** The token ids drawn for this fragment, when the model has them. */
      tokenIds?: number[];
      tokenLogprobs?: number[];
      /** The OpenAI `logprobs` of this fragment, passed through. */
      logprobs?: JsonObject | null;
    }
  | { type: "done"; result: ChatCompletionResult };

/** Per-call options of a {@link ChatModel}. */
export interface ChatModelCallOptions {
  /** Aborts the call: the model stops and the promise or stream rejects with an abort error. */
  signal?: AbortSignal;
  /**
   * Headers of the client's request that the model may need (an upstream model forwards the client's
   * `authorization`); in-process models ignore them.
   */
  headers?: Readonly<Record<string, string>>;
}

/**
 * Anything that answers chat-completions calls: an upstream OpenAI-compatible endpoint, or an in-process policy.
 * The gateway serves any `ChatModel` at `/v1/chat/completions`; `stream` is optional (without it the gateway
 * streams the finished result as one delta per choice).
 *
 * @example
 * ```ts
 * const echo: ChatModel = {
 *   async complete(request) {
 *     const last = request.messages.at(-1);
 *     return { model: request.model, choices: [{ index: 0, finishReason: "stop",
 *       message: { role: "assistant", content: typeof last?.content === "string" ? last.content : "" } }] };
 *   },
 * };
 * ```
 */
export interface ChatModel {
  /** Model ids to list at `GET /v1/models`. */
  listModels?(options?: ChatModelCallOptions): Promise<string[]>;
  complete(request: ChatCompletionRequest, options?: ChatModelCallOptions): Promise<ChatCompletionResult>;
  stream?(request: ChatCompletionRequest, options?: ChatModelCallOptions): AsyncIterable<ChatStreamEvent>;
}

/** The assistant message of a choice, checked: `ToolCall` arguments are JSON strings. */
export const AssistantMessage = ChatMessage.extend({
  role: z.literal("assistant"),
  tool_calls: z.array(ToolCall).optional(),
});
