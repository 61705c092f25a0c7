import type { IncomingMessage } from "node:http";
import {
  type ChatCompletionRequest,
  type ChatCompletionResult,
  type ChatModel,
  type ChatModelCallOptions,
  type ChatStreamEvent,
  messageOf,
  parseWith,
} from "@orbiter/types";
import { z } from "zod";
import { UpstreamError } from "../errors/upstream-error.js";
import { KeepAliveClient } from "./keep-alive-client.js";
import { readCompletionResponse, readFinishReason, readStreamChunk } from "./openai-wire.js";
import { readServerSentData } from "./sse-reader.js";
import { StreamAccumulator } from "./stream-accumulator.js";
import { UpstreamCall } from "./upstream-call.js";

/** Options of {@link UpstreamChatModel}. */
export const UpstreamOptions = z.strictObject({
  /** Base URL of the OpenAI-compatible API, e.g. `https://api.openai.com/v1` (the part before `/chat/completions`). */
  baseURL: z.url({ protocol: /^https?$/ }),
  /**
   * API key sent to the upstream as `Authorization: Bearer …`. Without one, the client's own `Authorization`
   * header is forwarded to the upstream (and only there), unless the gateway has an API key of its own.
   */
  apiKey: z.string().min(1).optional(),
  /** Longest time one call may take, streaming included, in milliseconds. @default 600000 (10 minutes) */
  timeoutMs: z.number().int().positive().default(600_000),
});
/** Options of {@link UpstreamChatModel}, as accepted. */
export type UpstreamOptions = z.input<typeof UpstreamOptions>;

/** Redacts every secret of `secrets` out of `text`. */
export function redact(text: string, secrets: ReadonlyArray<string | undefined>): string {
  let out = text;
  for (const secret of secrets) {
    if (secret !== undefined && secret.length >= 4) out = out.split(secret).join("[redacted]");
  }
  return out;
}

function bearerToken(header: string | undefined): string | undefined {
  const match = header?.match(/^Bearer\s+(.+)$/i);
  return match?.[1];
}

/**
 * A {@link ChatModel} that forwards every call to an OpenAI-compatible HTTP endpoint (`POST
 * {baseURL}/chat/completions`, `GET {baseURL}/models`). Any HTTP error, network failure, timeout or a body that
 * is not a chat completion becomes an {@link UpstreamError}; secrets are redacted from its message.
 *
 * @example
 * ```ts
 * const model = new UpstreamChatModel({ baseURL: "http://127.0.0.1:8000/v1", apiKey: process.env.KEY });
 * const result = await model.complete({ model: "m", messages: [{ role: "user", content: "hi" }] });
 * ```
 */
export class UpstreamChatModel implements ChatModel {
  readonly #base: string;
  readonly #apiKey: string | undefined;
  readonly #timeoutMs: number;
  readonly #client: KeepAliveClient;
  /** When false, a client's `Authorization` header is never forwarded. */
  readonly forwardClientAuthorization: boolean;

  constructor(options: UpstreamOptions, settings: { forwardClientAuthorization?: boolean } = {}) {
    const parsed = parseWith(UpstreamOptions, options, { what: "upstream options", path: "upstream" });
    this.#base = parsed.baseURL.replace(/\/+$/, "");
    this.#apiKey = parsed.apiKey;
    this.#timeoutMs = parsed.timeoutMs;
    this.#client = new KeepAliveClient(this.#base);
    this.forwardClientAuthorization = settings.forwardClientAuthorization ?? true;
  }

  /** The endpoint calls go to. */
  get baseURL(): string {
    return this.#base;
  }

  /** Closes the pooled upstream connections (the gateway does on close). */
  close(): void {
    this.#client.close();
  }

  #headers(options: ChatModelCallOptions | undefined): Record<string, string> {
    const headers: Record<string, string> = {
      "content-type": "application/json",
      accept: "application/json",
    };
    if (this.#apiKey !== undefined) headers.authorization = `Bearer ${this.#apiKey}`;
    else if (this.forwardClientAuthorization && options?.headers?.authorization !== undefined)
      headers.authorization = options.headers.authorization;
    return headers;
  }

  #secrets(options: ChatModelCallOptions | undefined): Array<string | undefined> {
    return [this.#apiKey, bearerToken(options?.headers?.authorization)];
  }

  /** One call's deadline and abort wiring (see {@link UpstreamCall}). */
  #call(options: ChatModelCallOptions | undefined): UpstreamCall {
    return new UpstreamCall(
      options?.signal,
      this.#timeoutMs,
      () => new UpstreamError(`upstream did not answer within ${this.#timeoutMs} ms`, { timedOut: true }),
    );
  }

  async #send(
    method: string,
    path: string,
    body: string | undefined,
    options: ChatModelCallOptions | undefined,
    call: UpstreamCall,
  ): Promise<IncomingMessage> {
    let response: IncomingMessage;
    try {
      response = await this.#client.send(method, path, this.#headers(options), body, call);
    } catch (error) {
      throw this.#failure(error, call, options);
    }
    const status = response.statusCode ?? 0;
    if (status < 200 || status >= 300) {
      const text = await KeepAliveClient.text(response).catch(() => "");
      if (call.stopped) throw this.#failure(call.reason, call, options);
      let detail = text.slice(0, 2000);
      try {
        const parsed = JSON.parse(text) as { error?: { message?: unknown } | string };
        const message = typeof parsed.error === "string" ? parsed.error : parsed.error?.message;
        if (typeof message === "string") detail = message;
      } catch {
        // Not JSON: the text itself is the detail.
      }
      throw new UpstreamError(
        redact(`upstream answered ${status}${detail ? `: ${detail}` : ""}`, this.#secrets(options)),
        { status },
      );
    }
    return response;
  }

  async #json(response: IncomingMessage, call: UpstreamCall, options: ChatModelCallOptions | undefined) {
    let text: string;
    try {
      text = await KeepAliveClient.text(response);
    } catch (error) {
      throw this.#failure(error, call, options);
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new UpstreamError(`upstream sent a body that is not JSON: ${messageOf(error)}`);
    }
  }

  #failure(error: unknown, call: UpstreamCall, options: ChatModelCallOptions | undefined): unknown {
    if (options?.signal?.aborted) return options.signal.reason ?? error;
    if (call.timedOut) {
      return new UpstreamError(`upstream did not answer within ${this.#timeoutMs} ms`, {
        timedOut: true,
        cause: error,
      });
    }
    if (UpstreamError.isInstance(error)) return error;
    const cause = (error as { cause?: { message?: string } }).cause?.message;
    const message = `upstream unreachable: ${messageOf(error)}${cause ? ` (${cause})` : ""}`;
    return new UpstreamError(redact(message, this.#secrets(options)), { cause: error });
  }

  async listModels(options?: ChatModelCallOptions): Promise<string[]> {
    const call = this.#call(options);
    try {
      const response = await this.#send("GET", "/models", undefined, options, call);
      const body = (await this.#json(response, call, options)) as
        | { data?: Array<{ id?: unknown }> }
        | undefined;
      if (!Array.isArray(body?.data))
        throw new UpstreamError("upstream /models answered without a data list");
      return body.data.map((entry) => entry.id).filter((id): id is string => typeof id === "string");
    } finally {
      call.release();
    }
  }

  async complete(
    request: ChatCompletionRequest,
    options?: ChatModelCallOptions,
  ): Promise<ChatCompletionResult> {
    const body = JSON.stringify({ ...request, stream: false, stream_options: undefined });
    const call = this.#call(options);
    try {
      const response = await this.#send("POST", "/chat/completions", body, options, call);
      const json = await this.#json(response, call, options);
      const result = readCompletionResponse(json, request.model);
      if (!result)
        throw new UpstreamError("upstream answered without a choices list (not a chat completion)");
      return result;
    } finally {
      call.release();
    }
  }

  async *stream(
    request: ChatCompletionRequest,
    options?: ChatModelCallOptions,
  ): AsyncIterable<ChatStreamEvent> {
    const body = JSON.stringify({ ...request, stream: true, stream_options: { include_usage: true } });
    const call = this.#call(options);
    try {
      const response = await this.#send("POST", "/chat/completions", body, options, call);
      const accumulator = new StreamAccumulator();
      let done = false;
      try {
        for await (const data of readServerSentData(response)) {
          if (data === "[DONE]") {
            done = true;
            break;
          }
          let chunk: unknown;
          try {
            chunk = JSON.parse(data);
          } catch {
            throw new UpstreamError(`upstream stream sent an event that is not JSON: ${data.slice(0, 200)}`);
          }
          const error = (chunk as { error?: { message?: unknown } }).error;
          if (error !== undefined) {
            const message = typeof error?.message === "string" ? error.message : JSON.stringify(error);
            throw new UpstreamError(redact(`upstream stream failed: ${message}`, this.#secrets(options)));
          }
          const reading = readStreamChunk(chunk);
          if (reading.id !== undefined) accumulator.id = reading.id;
          if (reading.model !== undefined) accumulator.model = reading.model;
          if (reading.usage) accumulator.setUsage(reading.usage);
          if (reading.promptTokenIds) accumulator.setPromptTokenIds(reading.promptTokenIds);
          for (const event of reading.events) {
            accumulator.add(event);
            if (event.content !== undefined || event.toolCalls || event.logprobs || event.tokenIds)
              yield event;
          }
          for (const { choiceIndex, finishReason } of reading.finishReasons) {
            accumulator.finish(choiceIndex, readFinishReason(finishReason, false));
          }
        }
      } catch (error) {
        throw this.#failure(error, call, options);
      }
      if (!done && accumulator.finishReasonOf(0) === undefined) {
        throw new UpstreamError("upstream stream ended before it finished (no [DONE], no finish reason)");
      }
      yield { type: "done", result: accumulator.result(request.model) };
    } finally {
      call.release();
    }
  }
}
