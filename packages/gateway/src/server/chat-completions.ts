import type { ServerResponse } from "node:http";
import {
  AbortedError,
  type ChatCompletionRequest,
  type ChatCompletionResult,
  type ChatModel,
  type ChatModelCallOptions,
  type ChatStreamEvent,
  messageOf,
  randomUuid,
} from "@orbiter/types";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { RecordedCall } from "../episodes/gateway-episode.js";
import { chunkToWire, completionToWire } from "../model/openai-wire.js";
import { StreamAccumulator } from "../model/stream-accumulator.js";
import { checkResult } from "./check-result.js";
import type { GatewayContext } from "./gateway-context.js";
import { modelFailure } from "./model-failure.js";
import { HttpProblem } from "./openai-error.js";
import { parseChatRequest } from "./parse-chat-request.js";
import { checkRolloutId, ROLLOUT_HEADER } from "./rollout-id.js";

type DeltaEvent = Extract<ChatStreamEvent, { type: "delta" }>;

/** Streams a whole result as one delta per choice (for models without `stream`). */
async function* completeAsStream(
  model: ChatModel,
  request: ChatCompletionRequest,
  options: ChatModelCallOptions,
): AsyncGenerator<ChatStreamEvent> {
  const result = checkResult(await model.complete(request, options));
  for (const choice of result.choices) yield wholeChoiceDelta(choice);
  yield { type: "done", result };
}

function wholeChoiceDelta(choice: ChatCompletionResult["choices"][number]): DeltaEvent {
  const event: DeltaEvent = { type: "delta", choiceIndex: choice.index };
  const content = choice.message.content;
  event.content = typeof content === "string" ? content : (content ?? []).map((part) => part.text).join("");
  if (choice.message.tool_calls?.length) {
    event.toolCalls = choice.message.tool_calls.map((call, index) => ({
      index,
      id: call.id,
      type: "function",
      function: { name: call.function.name, arguments: call.function.arguments },
    }));
  }
  if (choice.logprobs) event.logprobs = choice.logprobs;
  return event;
}

function deltaToWire(event: DeltaEvent, first: boolean): Record<string, unknown> {
  const delta: Record<string, unknown> = {};
  if (first) delta.role = "assistant";
  if (event.content !== undefined) delta.content = event.content;
  if (event.toolCalls) delta.tool_calls = event.toolCalls;
  return { index: event.choiceIndex, delta, logprobs: event.logprobs ?? null, finish_reason: null };
}

/** Writes to the response, waiting for the socket to drain when its buffer is full. */
function write(res: ServerResponse, text: string): Promise<void> | undefined {
  if (res.destroyed) throw new AbortedError("client disconnected");
  if (res.write(text)) return undefined;
  return new Promise<void>((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

function sse(payload: unknown): string {
  return `data: ${JSON.stringify(payload)}\n\n`;
}

/**
 * Serves one `POST …/chat/completions`: validates the body, runs the call on the model (streamed as
 * server-sent events when asked), records it in its episode, and answers once the record is durable.
 */
export async function handleChatCompletion(
  context: GatewayContext,
  request: FastifyRequest,
  reply: FastifyReply,
  pathRolloutId: string | undefined,
): Promise<void> {
  const body = parseChatRequest(request.body);
  let rolloutId = pathRolloutId;
  const header = request.headers[ROLLOUT_HEADER];
  if (rolloutId === undefined && header !== undefined) rolloutId = checkRolloutId(header, ROLLOUT_HEADER);
  const ticket = context.store.startCall(rolloutId);
  const controller = new AbortController();
  context.inFlight.add(controller);
  const res = reply.raw;
  let clientGone = false;
  const onClose = () => {
    if (!res.writableFinished) {
      clientGone = true;
      controller.abort(new AbortedError("the client disconnected"));
    }
  };
  res.on("close", onClose);
  if (request.raw.socket?.destroyed || res.destroyed) onClose(); // gone while the body was read
  const options: ChatModelCallOptions = { signal: controller.signal };
  const authorization = request.headers.authorization;
  if (authorization !== undefined) options.headers = { authorization };
  const started = performance.now();
  const call: RecordedCall = {
    rolloutId: ticket.rolloutId,
    index: ticket.index,
    request: body,
    status: "ok",
    streamed: body.stream === true,
    startedAt: Date.now(),
    latencyMs: 0,
  };
  let finished = false;
  const finish = async (status: RecordedCall["status"], problem?: HttpProblem): Promise<boolean> => {
    finished = true;
    call.status = status;
    call.latencyMs = performance.now() - started;
    if (problem) call.error = { message: problem.message, status: problem.status };
    else if (status === "aborted") call.error = { message: "the client disconnected" };
    try {
      await context.store.finishCall(ticket, call);
      return true;
    } catch (error) {
      context.log(`recording call ${ticket.rolloutId}#${ticket.index} failed: ${messageOf(error)}`);
      return false;
    }
  };
  try {
    if (body.stream === true)
      await streamCall(context, body, options, res, reply, call, finish, () => clientGone);
    else await completeCall(context, body, options, reply, call, finish, () => clientGone);
  } catch (error) {
    // Whatever went wrong after the call started, it is recorded (as failed) and its episode is not left waiting.
    if (!finished) await finish(clientGone ? "aborted" : "error", modelFailure(error, context.secrets));
    throw error;
  } finally {
    res.off("close", onClose);
    context.inFlight.delete(controller);
  }
}

type Finish = (status: RecordedCall["status"], problem?: HttpProblem) => Promise<boolean>;

const RECORD_FAILED = new HttpProblem(
  500,
  "the model answered but the call could not be recorded",
  "server_error",
  null,
  "recording_failed",
);

/**
 * Records and answers a model call that failed before anything was sent: aborted when the client has gone (no
 * answer) or the gateway itself aborted it (closing, answered 503), else an error answered with the failure's status.
 */
async function answerModelFailure(
  error: unknown,
  context: GatewayContext,
  options: ChatModelCallOptions,
  reply: FastifyReply,
  finish: Finish,
  clientGone: () => boolean,
): Promise<void> {
  if (clientGone()) {
    await finish("aborted");
    return;
  }
  const problem = modelFailure(error, context.secrets);
  await finish(options.signal?.aborted ? "aborted" : "error", problem);
  await reply.code(problem.status).send(problem.body);
}

async function completeCall(
  context: GatewayContext,
  body: ChatCompletionRequest,
  options: ChatModelCallOptions,
  reply: FastifyReply,
  call: RecordedCall,
  finish: Finish,
  clientGone: () => boolean,
): Promise<void> {
  let result: ChatCompletionResult;
  try {
    result = checkResult(await context.model.complete(body, options));
  } catch (error) {
    await answerModelFailure(error, context, options, reply, finish, clientGone);
    return;
  }
  call.result = result;
  const recorded = await finish(clientGone() ? "aborted" : "ok");
  if (clientGone()) return;
  if (!recorded) {
    await reply.code(500).send(RECORD_FAILED.body);
    return;
  }
  const id = result.id ?? `chatcmpl-${randomUuid()}`;
  await reply.send(completionToWire(result, id, Math.floor(call.startedAt / 1000)));
}

async function streamCall(
  context: GatewayContext,
  body: ChatCompletionRequest,
  options: ChatModelCallOptions,
  res: ServerResponse,
  reply: FastifyReply,
  call: RecordedCall,
  finish: Finish,
  clientGone: () => boolean,
): Promise<void> {
  const events = context.model.stream
    ? context.model.stream(body, options)
    : completeAsStream(context.model, body, options);
  const iterator = events[Symbol.asyncIterator]();
  const accumulator = new StreamAccumulator();
  let step: IteratorResult<ChatStreamEvent>;
  try {
    // The first event decides between an SSE stream and an error answer with a status.
    step = await iterator.next();
  } catch (error) {
    await answerModelFailure(error, context, options, reply, finish, clientGone);
    return;
  }
  reply.hijack();
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    connection: "keep-alive",
    "x-accel-buffering": "no",
  });
  const id = `chatcmpl-${randomUuid()}`;
  const created = Math.floor(call.startedAt / 1000);
  const started = new Set<number>();
  let result: ChatCompletionResult | undefined;
  let failure: unknown;
  try {
    while (!step.done) {
      const event = step.value;
      if (event.type === "done") {
        result = checkResult(event.result);
        break;
      }
      accumulator.add(event);
      const first = !started.has(event.choiceIndex);
      started.add(event.choiceIndex);
      await write(res, sse(chunkToWire(id, created, body.model, [deltaToWire(event, first)])));
      if (clientGone()) throw new AbortedError("the client disconnected");
      step = await iterator.next();
    }
    if (!result && !clientGone()) throw new Error("the model's stream ended without a result");
  } catch (error) {
    failure = error;
    void iterator.return?.(undefined)?.catch(() => undefined);
  }
  if (failure !== undefined || !result) {
    if (accumulator.choiceCount > 0) call.result = accumulator.result(body.model);
    if (clientGone()) {
      await finish("aborted");
      return;
    }
    const problem = modelFailure(failure, context.secrets);
    await finish(options.signal?.aborted ? "aborted" : "error", problem);
    res.end(sse(problem.body));
    return;
  }
  try {
    for (const choice of result.choices) {
      if (!started.has(choice.index)) {
        await write(
          res,
          sse(chunkToWire(id, created, result.model, [deltaToWire(wholeChoiceDelta(choice), true)])),
        );
      }
      const last = { index: choice.index, delta: {}, logprobs: null, finish_reason: choice.finishReason };
      await write(res, sse(chunkToWire(id, created, result.model, [last])));
    }
    if (body.stream_options?.include_usage && result.usage) {
      await write(res, sse(chunkToWire(id, created, result.model, [], result.usage)));
    }
  } catch {
    // The client went away while the last chunks were written: recorded below as aborted.
  }
  call.result = result;
  const recorded = await finish(clientGone() ? "aborted" : "ok");
  if (clientGone()) return;
  res.end(recorded ? "data: [DONE]\n\n" : sse(RECORD_FAILED.body));
}
