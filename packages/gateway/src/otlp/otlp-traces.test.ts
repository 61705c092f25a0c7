import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GatewayHandle, startGateway } from "../index.js";
import { post } from "../test-support/fixtures.js";

const TRACE = "5b8efff798038103d269b633813fc60c";
const attr = (key: string, value: string | number) => ({
  key,
  value:
    typeof value === "string"
      ? { stringValue: value }
      : Number.isInteger(value)
        ? { intValue: String(value) }
        : { doubleValue: value },
});

/** A chat span under the OpenTelemetry GenAI semantic conventions (messages as gen_ai.input/output.messages). */
function chatSpan(
  spanId: string,
  start: number,
  input: unknown[],
  output: unknown[],
  extra: ReturnType<typeof attr>[] = [],
) {
  return {
    traceId: TRACE,
    spanId,
    parentSpanId: "aaaaaaaaaaaaaaaa",
    name: "chat gpt-x",
    startTimeUnixNano: String(BigInt(start) * 1_000_000n),
    endTimeUnixNano: String(BigInt(start + 40) * 1_000_000n),
    attributes: [
      attr("gen_ai.operation.name", "chat"),
      attr("gen_ai.request.model", "gpt-x"),
      attr("gen_ai.input.messages", JSON.stringify(input)),
      attr("gen_ai.output.messages", JSON.stringify(output)),
      attr("gen_ai.usage.input_tokens", 12),
      attr("gen_ai.usage.output_tokens", 4),
      ...extra,
    ],
    status: {},
  };
}

const request = (spans: unknown[]) =>
  JSON.stringify({
    resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ scope: { name: "x" }, spans }] }],
  });

let gateway: GatewayHandle;
beforeAll(async () => {
  gateway = await startGateway({
    model: { complete: async () => Promise.reject(new Error("unused")) },
    traceGraceMs: 0,
  });
});
afterAll(async () => {
  await gateway.close();
});

describe("POST /v1/traces (OTLP/HTTP JSON)", () => {
  it("reads semantic-convention chat spans, in start order, as the calls of the trace's episode", async () => {
    const user = { role: "user", parts: [{ type: "text", content: "weather in Paris?" }] };
    const call = {
      role: "assistant",
      parts: [{ type: "tool_call", id: "c1", name: "weather", arguments: { city: "Paris" } }],
    };
    const result = { role: "tool", parts: [{ type: "tool_call_response", id: "c1", response: "sunny" }] };
    const answer = {
      role: "assistant",
      parts: [{ type: "text", content: "It is sunny." }],
      finish_reason: "stop",
    };
    const second = chatSpan(
      "0000000000000002",
      1000,
      [user, call, result],
      [answer],
      [attr("gen_ai.request.temperature", 0.5)],
    );
    const first = chatSpan(
      "0000000000000001",
      900,
      [user],
      [call],
      [attr("gen_ai.response.finish_reasons", "tool_calls")],
    );
    const response = await post(`${gateway.url}/v1/traces`, request([second, first]));
    expect(response.status).toBe(200);
    expect(response.json).toEqual({});
    const episode = gateway.episode(TRACE);
    expect(episode?.calls.map((recorded) => recorded.result?.choices[0]?.message)).toEqual([
      {
        role: "assistant",
        content: null,
        tool_calls: [
          { id: "c1", type: "function", function: { name: "weather", arguments: '{"city":"Paris"}' } },
        ],
      },
      { role: "assistant", content: "It is sunny." },
    ]);
    expect(episode?.calls[1]?.request.messages.map((message) => message.role)).toEqual([
      "user",
      "assistant",
      "tool",
    ]);
    expect(episode?.calls[1]?.request.temperature).toBe(0.5);
    expect(episode?.calls[1]?.latencyMs).toBe(40);
    expect(episode?.calls[0]?.result?.usage).toEqual({
      promptTokens: 12,
      completionTokens: 4,
      totalTokens: 16,
    });

    // The root span ends the trace's episode; a span arriving after that is refused and counted.
    const root = {
      traceId: TRACE,
      spanId: "aaaaaaaaaaaaaaaa",
      name: "agent",
      startTimeUnixNano: "0",
      endTimeUnixNano: "1",
      attributes: [],
    };
    expect((await post(`${gateway.url}/v1/traces`, request([root]))).status).toBe(200);
    expect(gateway.episode(TRACE)).toMatchObject({ status: "ended", endReason: "end" });
    const late = await post(
      `${gateway.url}/v1/traces`,
      request([chatSpan("0000000000000003", 2000, [user], [answer])]),
    );
    expect(late.json).toMatchObject({ partialSuccess: { rejectedSpans: 1 } });
  });

  it("reads the older indexed gen_ai.prompt.N / gen_ai.completion.N attributes", async () => {
    const traceId = "abcdefabcdefabcdefabcdefabcdef01";
    const span = {
      traceId,
      spanId: "00000000000000bb",
      parentSpanId: "00000000000000cc",
      name: "openai.chat",
      startTimeUnixNano: "1000000",
      endTimeUnixNano: "3000000",
      attributes: [
        attr("gen_ai.request.model", "gpt-y"),
        attr("gen_ai.prompt.0.role", "system"),
        attr("gen_ai.prompt.0.content", "Be terse."),
        attr("gen_ai.prompt.1.role", "user"),
        attr("gen_ai.prompt.1.content", "Time in Oslo?"),
        attr("gen_ai.completion.0.role", "assistant"),
        attr("gen_ai.completion.0.finish_reason", "tool_calls"),
        attr("gen_ai.completion.0.tool_calls.0.id", "t1"),
        attr("gen_ai.completion.0.tool_calls.0.name", "clock"),
        attr("gen_ai.completion.0.tool_calls.0.arguments", '{"city":"Oslo"}'),
        attr("gen_ai.usage.prompt_tokens", 9),
        attr("gen_ai.usage.completion_tokens", 3),
      ],
    };
    expect((await post(`${gateway.url}/v1/traces`, request([span]))).json).toEqual({});
    const call = gateway.episode(traceId)?.calls[0];
    expect(call?.request.messages).toEqual([
      { role: "system", content: "Be terse." },
      { role: "user", content: "Time in Oslo?" },
    ]);
    expect(call?.result?.choices[0]).toMatchObject({
      finishReason: "tool_calls",
      message: {
        role: "assistant",
        content: null,
        tool_calls: [
          { id: "t1", type: "function", function: { name: "clock", arguments: '{"city":"Oslo"}' } },
        ],
      },
    });
    expect(call?.result?.usage).toEqual({ promptTokens: 9, completionTokens: 3, totalTokens: 12 });
    expect(call?.latencyMs).toBe(2);
  });

  it("records a span with ERROR status as a failed call and refuses spans without messages", async () => {
    const failed = {
      ...chatSpan("0000000000000009", 5, [{ role: "user", parts: [{ type: "text", content: "hi" }] }], []),
      traceId: "ffffffffffffffffffffffffffffffff",
      status: { code: 2, message: "rate limited" },
    };
    const empty = { ...chatSpan("0000000000000008", 6, [], []), traceId: "ffffffffffffffffffffffffffffffff" };
    const response = await post(`${gateway.url}/v1/traces`, request([failed, empty]));
    expect(response.json).toMatchObject({ partialSuccess: { rejectedSpans: 1 } });
    expect(
      (response.json as { partialSuccess: { errorMessage: string } }).partialSuccess.errorMessage,
    ).toContain("messages");
    expect(gateway.episode("ffffffffffffffffffffffffffffffff")?.calls[0]).toMatchObject({
      status: "error",
      error: { message: "rate limited" },
    });
  });

  it("takes gzip-compressed exports, and refuses a compressed body that inflates past the limit", async () => {
    const traceId = "0123456789abcdef0123456789abcdef";
    const span = {
      ...chatSpan(
        "00000000000000aa",
        1,
        [{ role: "user", parts: [{ type: "text", content: "zip" }] }],
        [{ role: "assistant", parts: [{ type: "text", content: "ok" }] }],
      ),
      traceId,
    };
    const zipped = gzipSync(request([span]));
    const response = await fetch(`${gateway.url}/v1/traces`, {
      method: "POST",
      headers: { "content-type": "application/json", "content-encoding": "gzip" },
      body: zipped,
    });
    expect(response.status).toBe(200);
    expect(gateway.episode(traceId)?.calls[0]?.result?.choices[0]?.message.content).toBe("ok");
    const bomb = gzipSync(Buffer.alloc(11 * 1024 * 1024, 0x20));
    const refused = await fetch(`${gateway.url}/v1/traces`, {
      method: "POST",
      headers: { "content-type": "application/json", "content-encoding": "gzip" },
      body: bomb,
    });
    expect(bomb.length).toBeLessThan(100_000);
    expect(refused.status).toBe(413);
  });

  it("answers 400 to a body that is not an OTLP export and 415 to protobuf", async () => {
    const bad = await post(`${gateway.url}/v1/traces`, '{"spans": []}');
    expect(bad.status).toBe(400);
    expect(bad.json.error?.param).toBe("resourceSpans");
    const protobuf = await post(`${gateway.url}/v1/traces`, "\u0008\u0001", {
      "content-type": "application/x-protobuf",
    });
    expect(protobuf.status).toBe(415);
  });
});
