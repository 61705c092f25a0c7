import {
  type ChatCompletionRequest,
  type ChatCompletionResult,
  type ChatModel,
  type ChatModelCallOptions,
  type ChatStreamEvent,
  parseWith,
} from "@orbiter/types";
import { z } from "zod";
import { UpstreamError } from "../errors/upstream-error.js";
import { readCompletionResponse, readFinishReason, readStreamChunk } from "./openai-wire.js";
import { readServerSentData } from "./sse-reader.js";
import { StreamAccumulator } from "./stream-accumulator.js";

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
  /** When false, a client's `Authorization` header is never forwarded. */
  readonly forwardClientAuthorization: boolean;

  constructor(options: UpstreamOptions, settings: { forwardClientAuthorization?: boolean } = {}) {
    const parsed = parseWith(UpstreamOptions, options, { what: "upstream options", path: "upstream" });
    this.#base = parsed.baseURL.replace(/\/+$/, "");
    this.#apiKey = parsed.apiKey;
    this.#timeoutMs = parsed.timeoutMs;
    this.forwardClientAuthorization = settings.forwardClientAuthorization ?? true;
  }

  /** The endpoint calls go to. */
  get baseURL(): string {
    return this.#base;
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

  /** The signal of one call: the caller's, or the timeout, whichever comes first. */
  #signals(options: ChatModelCallOptions | undefined): { timeout: AbortSignal; signal: AbortSignal } {
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    return { timeout, signal: options?.signal ? AbortSignal.any([options.signal, timeout]) : timeout };
  }

  async #fetch(
    path: string,
    init: RequestInit,
    options: ChatModelCallOptions | undefined,
    { timeout, signal }: { timeout: AbortSignal; signal: AbortSignal },
  ): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(`${this.#base}${path}`, { ...init, headers: this.#headers(options), signal });
    } catch (error) {
      throw this.#failure(error, timeout, options);
    }
    if (!response.ok) {
      const text = await response.text().catch(() => "");
      if (options?.signal?.aborted || timeout.aborted) throw this.#failure(signal.reason, timeout, options);
      let detail = text.slice(0, 2000);
      try {
        const body = JSON.parse(text) as { error?: { message?: unknown } | string };
        const message = typeof body.error === "string" ? body.error : body.error?.message;
        if (typeof message === "string") detail = message;
      } catch {
        // Not JSON: the text itself is the detail.
      }
      throw new UpstreamError(
        redact(`upstream answered ${response.status}${detail ? `: ${detail}` : ""}`, this.#secrets(options)),
        { status: response.status },
      );
    }
    return response;
  }

  #failure(error: unknown, timeout: AbortSignal, options: ChatModelCallOptions | undefined): unknown {
    if (options?.signal?.aborted) return options.signal.reason ?? error;
    if (UpstreamError.isInstance(error)) return error;
    if (timeout.aborted) {
      return new UpstreamError(`upstream did not answer within ${this.#timeoutMs} ms`, {
        timedOut: true,
        cause: error,
      });
    }
    const cause = (error as { cause?: { message?: string } }).cause?.message;
    const message = `upstream unreachable: ${(error as Error).message}${cause ? ` (${cause})` : ""}`;
    return new UpstreamError(redact(message, this.#secrets(options)), { cause: error });
  }

  async listModels(options?: ChatModelCallOptions): Promise<string[]> {
    const response = await this.#fetch("/models", { method: "GET" }, options, this.#signals(options));
    const body = (await response.json().catch(() => undefined)) as
      | { data?: Array<{ id?: unknown }> }
      | undefined;
    if (!Array.isArray(body?.data)) throw new UpstreamError("upstream /models answered without a data list");
    return body.data.map((entry) => entry.id).filter((id): id is string => typeof id === "string");
  }

  async complete(
    request: ChatCompletionRequest,
    options?: ChatModelCallOptions,
  ): Promise<ChatCompletionResult> {
    const body = JSON.stringify({ ...request, stream: false, stream_options: undefined });
    const signals = this.#signals(options);
    const { timeout } = signals;
    const response = await this.#fetch("/chat/completions", { method: "POST", body }, options, signals);
    let json: unknown;
    try {
      json = await response.json();
    } catch (error) {
      throw this.#failure(
        UpstreamError.isInstance(error)
          ? error
          : new UpstreamError(`upstream sent a body that is not JSON: ${(error as Error).message}`),
        timeout,
        options,
      );
    }
    const result = readCompletionResponse(json, request.model);
    if (!result) throw new UpstreamError("upstream answered without a choices list (not a chat completion)");
    return result;
  }

  async *stream(
    request: ChatCompletionRequest,
    options?: ChatModelCallOptions,
  ): AsyncIterable<ChatStreamEvent> {
    const body = JSON.stringify({ ...request, stream: true, stream_options: { include_usage: true } });
    const signals = this.#signals(options);
    const { timeout } = signals;
    const response = await this.#fetch("/chat/completions", { method: "POST", body }, options, signals);
    if (!response.body) throw new UpstreamError("upstream stream has no body");
    const accumulator = new StreamAccumulator();
    let done = false;
    try {
      for await (const data of readServerSentData(response.body)) {
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
          if (event.content !== undefined || event.toolCalls || event.logprobs || event.tokenIds) yield event;
        }
        for (const { choiceIndex, finishReason } of reading.finishReasons) {
          accumulator.finish(choiceIndex, readFinishReason(finishReason, false));
        }
      }
    } catch (error) {
      throw this.#failure(error, timeout, options);
    }
    if (!done && accumulator.finishReasonOf(0) === undefined) {
      throw new UpstreamError("upstream stream ended before it finished (no [DONE], no finish reason)");
    }
    yield { type: "done", result: accumulator.result(request.model) };
  }
}
