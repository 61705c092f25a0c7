import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A local stand-in for a remote OpenAI-compatible model endpoint, for tests and benchmarks: an honest HTTP
 * server on 127.0.0.1 speaking the chat-completions wire format (JSON and server-sent events) with scripted
 * answers, tool calls, errors, slow answers and broken connections.
 */

/** A tool call the stub answers with. */
export interface StubToolCall {
  id: string;
  name: string;
  arguments: string;
}

/** What the stub answers to one call. */
export type StubReply =
  | {
      kind: "message";
      content?: string | null;
      toolCalls?: StubToolCall[];
      finishReason?: string;
      /** Per-token log-probabilities to return when the request asks for `logprobs`. */
      logprobs?: Array<{ token: string; logprob: number }>;
      /** Milliseconds before answering (before the first chunk when streaming). */
      delayMs?: number;
      /** Milliseconds between stream chunks. */
      chunkDelayMs?: number;
      /** Characters per content chunk when streaming. @default 4 */
      chunkSize?: number;
    }
  | { kind: "error"; status: number; message: string }
  | { kind: "hang" }
  | { kind: "raw"; status: number; contentType: string; body: string }
  /** Streams `chunks` content chunks, then destroys the connection. */
  | { kind: "cut"; content: string; chunks: number };

/** One request the stub received. */
export interface StubRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown> | undefined;
}

/** A running stub. */
export interface StubUpstream {
  /** `http://127.0.0.1:PORT/v1`, the `baseURL` to give. */
  baseURL: string;
  /** Every request received, in order. */
  requests: StubRequest[];
  /** Replaces the script: called once per chat-completions request. */
  script(reply: (body: Record<string, unknown>, index: number) => StubReply): void;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function lastUserText(body: Record<string, unknown>): string {
  const messages = (body.messages ?? []) as Array<{ role: string; content?: unknown }>;
  const last = [...messages].reverse().find((message) => message.role === "user");
  if (typeof last?.content === "string") return last.content;
  if (Array.isArray(last?.content))
    return last.content.map((part: { text?: string }) => part.text ?? "").join("");
  return "";
}

/** The default script: echoes the last user message. */
export const echoReply = (body: Record<string, unknown>): StubReply => ({
  kind: "message",
  content: `echo: ${lastUserText(body)}`,
});

function usage(body: Record<string, unknown>, content: string) {
  const prompt = JSON.stringify(body.messages ?? []).length >> 2;
  const completion = Math.max(1, content.length >> 2);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

function logprobsOf(reply: Extract<StubReply, { kind: "message" }>, body: Record<string, unknown>) {
  if (!body.logprobs || !reply.logprobs) return null;
  return { content: reply.logprobs.map((entry) => ({ ...entry, bytes: null, top_logprobs: [] })) };
}

async function answer(res: ServerResponse, body: Record<string, unknown>, reply: StubReply): Promise<void> {
  if (reply.kind === "hang") return;
  if (reply.kind === "error") {
    res.writeHead(reply.status, { "content-type": "application/json" });
    res.end(
      JSON.stringify({ error: { message: reply.message, type: "stub_error", param: null, code: null } }),
    );
    return;
  }
  if (reply.kind === "raw") {
    res.writeHead(reply.status, { "content-type": reply.contentType });
    res.end(reply.body);
    return;
  }
  const id = `stub-${Math.random().toString(36).slice(2)}`;
  const model = String(body.model ?? "stub");
  const created = Math.floor(Date.now() / 1000);
  const n = typeof body.n === "number" ? body.n : 1;
  if (reply.kind === "cut") {
    res.writeHead(200, { "content-type": "text/event-stream" });
    for (let chunk = 0; chunk < reply.chunks; chunk++) {
      const delta = chunk === 0 ? { role: "assistant", content: reply.content } : { content: reply.content };
      res.write(
        `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model, choices: [{ index: 0, delta, finish_reason: null }] })}\n\n`,
      );
      await sleep(5);
    }
    res.destroy();
    return;
  }
  if (reply.delayMs) await sleep(reply.delayMs);
  const content = reply.content === undefined ? "" : reply.content;
  const toolCalls = (reply.toolCalls ?? []).map((call) => ({
    id: call.id,
    type: "function",
    function: { name: call.name, arguments: call.arguments },
  }));
  const finishReason = reply.finishReason ?? (toolCalls.length > 0 ? "tool_calls" : "stop");
  if (body.stream !== true) {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        id,
        object: "chat.completion",
        created,
        model,
        choices: Array.from({ length: n }, (_, index) => ({
          index,
          message: {
            role: "assistant",
            content: index === 0 ? content : `${content ?? ""} #${index}`,
            refusal: null,
            ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
          },
          logprobs: logprobsOf(reply, body),
          finish_reason: finishReason,
        })),
        usage: usage(body, content ?? ""),
      }),
    );
    return;
  }
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  const send = (choices: unknown[], extra: Record<string, unknown> = {}) =>
    res.write(
      `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model, choices, ...extra })}\n\n`,
    );
  const size = reply.chunkSize ?? 4;
  const text = content ?? "";
  send([{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }]);
  for (let start = 0; start < text.length; start += size) {
    if (reply.chunkDelayMs) await sleep(reply.chunkDelayMs);
    if (res.destroyed) return;
    send([{ index: 0, delta: { content: text.slice(start, start + size) }, finish_reason: null }]);
  }
  for (const [index, call] of toolCalls.entries()) {
    const half = call.function.arguments.length >> 1;
    send([
      {
        index: 0,
        delta: {
          tool_calls: [
            {
              index,
              id: call.id,
              type: "function",
              function: { name: call.function.name, arguments: call.function.arguments.slice(0, half) },
            },
          ],
        },
        finish_reason: null,
      },
    ]);
    send([
      {
        index: 0,
        delta: { tool_calls: [{ index, function: { arguments: call.function.arguments.slice(half) } }] },
        finish_reason: null,
      },
    ]);
  }
  send([{ index: 0, delta: {}, finish_reason: finishReason }]);
  const options = body.stream_options as { include_usage?: boolean } | undefined;
  if (options?.include_usage) send([], { usage: usage(body, text) });
  res.end("data: [DONE]\n\n");
}

/** Starts a stub upstream on 127.0.0.1 with a random port. */
export async function startStubUpstream(
  script: (body: Record<string, unknown>, index: number) => StubReply = echoReply,
  options: { record?: boolean } = {},
): Promise<StubUpstream> {
  let current = script;
  let calls = 0;
  const requests: StubRequest[] = [];
  const record = options.record ?? true;
  const sockets = new Set<import("node:net").Socket>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const body = text === "" ? undefined : (JSON.parse(text) as Record<string, unknown>);
      if (record) requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
      if (req.method === "GET" && req.url === "/v1/models") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            object: "list",
            data: [
              { id: "stub-small", object: "model" },
              { id: "stub-large", object: "model" },
            ],
          }),
        );
        return;
      }
      if (req.method !== "POST" || req.url !== "/v1/chat/completions" || !body) {
        res.writeHead(404, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { message: "not found" } }));
        return;
      }
      void answer(res, body, current(body, calls++)).catch(() => res.destroy());
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    script(reply) {
      current = reply;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
