import { execFile } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { generateText, stepCountIs, streamText, tool } from "ai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { type GatewayEpisode, type GatewayHandle, startGateway } from "./index.js";
import { readRecords, temporaryFolder } from "./test-support/fixtures.js";
import { type StubReply, type StubUpstream, startStubUpstream } from "./test-support/stub-upstream.js";

/** Calls `add` until the last message is its result, then answers with it (without tools: a plain answer). */
function adder(body: Record<string, unknown>): StubReply {
  if (body.tools === undefined)
    return { kind: "message", content: "A plain answer, streamed.", chunkSize: 4 };
  const messages = body.messages as Array<{ role: string; content?: string }>;
  const last = messages.at(-1);
  const results = messages.filter((message) => message.role === "tool").length;
  if (last?.role === "tool" && results >= 2)
    return { kind: "message", content: `The total is ${last.content}.`, chunkSize: 3 };
  const args = results === 0 ? '{"a":2,"b":3}' : `{"a":${last?.content},"b":10}`;
  return {
    kind: "message",
    content: null,
    toolCalls: [{ id: `call_${results}`, name: "add", arguments: args }],
  };
}

const run = promisify(execFile);

const addTool = tool({
  description: "Adds two numbers",
  inputSchema: z.object({ a: z.number(), b: z.number() }),
  execute: async ({ a, b }) => a + b,
});

let stub: StubUpstream;
let gateway: GatewayHandle;
let folder: Awaited<ReturnType<typeof temporaryFolder>>;
let out = "";
const ended: GatewayEpisode[] = [];

beforeAll(async () => {
  folder = await temporaryFolder("ai-sdk");
  out = join(folder.path, "calls.jsonl");
  stub = await startStubUpstream(adder);
  gateway = await startGateway({
    upstream: { baseURL: stub.baseURL },
    out,
    traceGraceMs: 0,
    onEpisodeEnd: (episode) => ended.push(episode),
  });
});
afterAll(async () => {
  await gateway.close();
  await stub.close();
  await folder.remove();
});

describe("the Vercel AI SDK (ai v6 + @ai-sdk/openai-compatible v2) through the gateway", () => {
  it("generateText with a tool over several turns is one episode of three calls", async () => {
    const provider = createOpenAICompatible({
      name: "gateway",
      baseURL: `${gateway.url}/rollouts/ai-run/v1`,
      apiKey: "k",
    });
    const result = await generateText({
      model: provider("stub-small"),
      tools: { add: addTool },
      stopWhen: stepCountIs(5),
      prompt: "What is 2+3, plus 10?",
    });
    expect(result.text).toBe("The total is 15.");
    expect(result.steps).toHaveLength(3);
    const episode = await gateway.endEpisode("ai-run");
    expect(
      episode?.calls.map((call) => [call.index, call.status, call.result?.choices[0]?.finishReason]),
    ).toEqual([
      [0, "ok", "tool_calls"],
      [1, "ok", "tool_calls"],
      [2, "ok", "stop"],
    ]);
    const items = (await readRecords(out)).filter((item) => item.episodeId === "ai-run");
    expect(items.map((item) => item.action)).toEqual([
      'add({"a":2,"b":3})',
      'add({"a":5,"b":10})',
      "The total is 15.",
    ]);
    expect(items[2]?.messages?.map((message) => message.role)).toEqual([
      "user",
      "assistant",
      "tool",
      "assistant",
      "tool",
      "assistant",
    ]);
    expect(items[2]?.state).toContain("tool [call_1]: 15");
    expect(items[0]?.metadata.tools).toMatchObject([{ type: "function", function: { name: "add" } }]);
  });

  it("streamText streams through the gateway and is recorded whole", async () => {
    stub.script(() => ({ kind: "message", content: "Streaming works, token by token.", chunkSize: 3 }));
    const provider = createOpenAICompatible({
      name: "gateway",
      baseURL: `${gateway.url}/rollouts/ai-stream/v1`,
      apiKey: "k",
    });
    const result = streamText({ model: provider("stub-small"), prompt: "Say something." });
    const parts: string[] = [];
    for await (const part of result.textStream) parts.push(part);
    expect(parts.join("")).toBe("Streaming works, token by token.");
    expect(parts.length).toBeGreaterThan(5);
    expect(await result.finishReason).toBe("stop");
    const episode = await gateway.endEpisode("ai-stream");
    expect(episode?.calls[0]).toMatchObject({ status: "ok", streamed: true });
    expect(episode?.calls[0]?.result?.choices[0]?.message.content).toBe("Streaming works, token by token.");
    stub.script(adder);
  });

  it("its telemetry, exported over OTLP/HTTP to /v1/traces, becomes an episode per trace", async () => {
    // The agent runs in its own process, talks to the model directly, and sends only its telemetry here.
    const { stdout } = await run(
      process.execPath,
      [fileURLToPath(new URL("./test-support/telemetry-agent.mjs", import.meta.url))],
      {
        env: { ...process.env, GATEWAY_URL: gateway.url, STUB_URL: stub.baseURL },
        timeout: 60_000,
      },
    );
    const agent = JSON.parse(stdout) as { text: string; streamedText: string; traceIds: string[] };
    expect(agent.text).toBe("The total is 15.");
    expect(agent.traceIds).toHaveLength(2);
    const episode = ended.find((candidate) => candidate.calls[0]?.source === "otlp");
    expect(episode?.rolloutId).toBe(agent.traceIds[0]);
    expect(episode?.status).toBe("ended");
    expect(episode?.calls.map((call) => call.result?.choices[0]?.finishReason)).toEqual([
      "tool_calls",
      "tool_calls",
      "stop",
    ]);
    const last = episode?.calls[2];
    expect(last?.request.model).toBe("stub-small");
    expect(last?.request.temperature).toBe(0.25);
    expect(last?.request.messages.map((message) => message.role)).toEqual([
      "system",
      "user",
      "assistant",
      "tool",
      "assistant",
      "tool",
    ]);
    expect(last?.request.messages[2]?.tool_calls?.[0]?.function).toEqual({
      name: "add",
      arguments: '{"a":2,"b":3}',
    });
    expect(last?.request.tools?.[0]?.function.name).toBe("add");
    expect(last?.result?.choices[0]?.message.content).toBe("The total is 15.");
    expect(last?.result?.usage?.totalTokens).toBeGreaterThan(0);
    const items = (await readRecords(out)).filter((item) => item.episodeId === episode?.rolloutId);
    expect(items.map((item) => [item.step, item.status, item.metadata.source])).toEqual([
      [0, "success", "otlp"],
      [1, "success", "otlp"],
      [2, "success", "otlp"],
    ]);
    expect(items[2]?.action).toBe("The total is 15.");

    const streamed = ended.find((candidate) => candidate.rolloutId === agent.traceIds[1]);
    expect(streamed?.calls).toHaveLength(1);
    expect(streamed?.calls[0]).toMatchObject({ status: "ok", streamed: true, source: "otlp" });
    expect(streamed?.calls[0]?.result?.choices[0]?.message.content).toBe(agent.streamedText);
    expect(streamed?.calls[0]?.request.messages).toEqual([{ role: "user", content: "Say something." }]);
  });
});
