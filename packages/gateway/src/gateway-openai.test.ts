import { join } from "node:path";
import { openAiClient } from "@orbiter/test-support";
import type OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GatewayHandle, startGateway } from "./index.js";
import { readRecords, temporaryFolder } from "./test-support/fixtures.js";
import { type StubUpstream, startStubUpstream } from "./test-support/stub-upstream.js";

let stub: StubUpstream;
let gateway: GatewayHandle;
let folder: Awaited<ReturnType<typeof temporaryFolder>>;
let out = "";

beforeAll(async () => {
  folder = await temporaryFolder("openai");
  out = join(folder.path, "calls.jsonl");
  stub = await startStubUpstream();
  gateway = await startGateway({
    upstream: { baseURL: stub.baseURL, apiKey: "sk-upstream-secret-1234" },
    out,
  });
});
afterAll(async () => {
  await gateway.close();
  await stub.close();
  await folder.remove();
});

const tools = [
  {
    type: "function" as const,
    function: {
      name: "add",
      description: "Adds two numbers",
      parameters: {
        type: "object",
        properties: { a: { type: "number" }, b: { type: "number" } },
        required: ["a", "b"],
      },
    },
  },
];

describe("the official openai SDK through the gateway", () => {
  it("records a plain call as its own episode, with the upstream key sent only upstream", async () => {
    const client = openAiClient(`${gateway.url}/v1`, "sk-client-key-5678");
    const completion = await client.chat.completions.create({
      model: "stub-small",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "hello there" },
      ],
      temperature: 0.5,
    });
    expect(completion.choices[0]?.message.content).toBe("echo: hello there");
    expect(completion.choices[0]?.finish_reason).toBe("stop");
    expect(completion.usage?.total_tokens).toBeGreaterThan(0);
    const upstreamCall = stub.requests.at(-1);
    expect(upstreamCall?.headers.authorization).toBe("Bearer sk-upstream-secret-1234");
    expect(upstreamCall?.body?.temperature).toBe(0.5);

    const items = await readRecords(out);
    const item = items.at(-1);
    expect(item).toMatchObject({
      step: 0,
      reward: 0,
      status: "success",
      state: "system: Be brief.\nuser: hello there",
      action: "echo: hello there",
    });
    expect(item?.episodeId).toMatch(/^call-/);
    expect(item?.messages?.map((message) => message.role)).toEqual(["system", "user", "assistant"]);
    expect(item?.metadata).toMatchObject({
      model: "stub-small",
      finishReason: "stop",
      temperature: 0.5,
      streamed: false,
    });
    expect(item?.metadata.usage).toMatchObject({ totalTokens: completion.usage?.total_tokens });
    expect(item?.metadata.latencyMs).toBeGreaterThan(0);
    const episode = gateway.episode(item?.episodeId as string);
    expect(episode).toMatchObject({ status: "ended", endReason: "end" });
  });

  it("groups a multi-turn tool-using run under /rollouts/{id}/v1 and puts the reward on its last item", async () => {
    stub.script((body) => {
      const messages = body.messages as Array<{ role: string; content?: string }>;
      if (messages.at(-1)?.role === "tool")
        return { kind: "message", content: `The sum is ${messages.at(-1)?.content}.` };
      return {
        kind: "message",
        content: null,
        toolCalls: [{ id: "call_1", name: "add", arguments: '{"a":2,"b":3}' }],
      };
    });
    const client = openAiClient(`${gateway.url}/rollouts/run-7/v1`);
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: "What is 2+3?" }];
    const first = await client.chat.completions.create({
      model: "stub-small",
      messages,
      tools,
      tool_choice: "auto",
    });
    const call = first.choices[0]?.message.tool_calls?.[0];
    expect(first.choices[0]?.finish_reason).toBe("tool_calls");
    expect(call?.type === "function" ? call.function : undefined).toEqual({
      name: "add",
      arguments: '{"a":2,"b":3}',
    });
    messages.push(first.choices[0]?.message as OpenAI.ChatCompletionMessageParam);
    messages.push({ role: "tool", tool_call_id: "call_1", content: "5" });
    expect(stub.requests.at(-1)?.body).toMatchObject({ tool_choice: "auto", tools });
    const second = await client.chat.completions.create({ model: "stub-small", messages, tools });
    expect((stub.requests.at(-1)?.body?.messages as unknown[] | undefined)?.at(-1)).toEqual({
      role: "tool",
      tool_call_id: "call_1",
      content: "5",
    });
    expect(second.choices[0]?.message.content).toBe("The sum is 5.");

    const rewarded = await fetch(`${gateway.url}/rollouts/run-7/reward`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ reward: 1, name: "correct" }),
    });
    expect(rewarded.status).toBe(200);
    expect(await rewarded.json()).toMatchObject({
      rolloutId: "run-7",
      status: "ended",
      endReason: "reward",
      calls: 2,
      reward: 1,
    });

    const items = (await readRecords(out)).filter((item) => item.episodeId === "run-7");
    expect(items.map((item) => [item.step, item.reward, item.status])).toEqual([
      [0, 0, "success"],
      [1, 1, "success"],
    ]);
    expect(items[0]?.action).toBe('add({"a":2,"b":3})');
    expect(items[0]?.metadata).toMatchObject({ finishReason: "tool_calls", tool_choice: "auto" });
    expect(items[0]?.metadata.tools).toHaveLength(1);
    expect(items[1]?.state).toBe('user: What is 2+3?\nassistant: add({"a":2,"b":3})\ntool [call_1]: 5');
    expect(items[1]?.messages?.map((message) => message.role)).toEqual([
      "user",
      "assistant",
      "tool",
      "assistant",
    ]);
    expect(items[1]?.metadata.rewards).toEqual([{ value: 1, name: "correct" }]);
    const episode = gateway.episode("run-7");
    expect(episode?.calls.map((recorded) => [recorded.index, recorded.status])).toEqual([
      [0, "ok"],
      [1, "ok"],
    ]);
    expect(episode?.rewards).toEqual([{ value: 1, name: "correct" }]);
    stub.script((body) => ({
      kind: "message",
      content: `echo: ${(body.messages as Array<{ content: string }>).at(-1)?.content}`,
    }));
  });

  it("streams text and tool calls as server-sent events and records the assembled call", async () => {
    stub.script(() => ({
      kind: "message",
      content: "Let me add those numbers for you.",
      toolCalls: [{ id: "call_9", name: "add", arguments: '{"a":40,"b":2}' }],
      chunkSize: 5,
    }));
    const client = openAiClient(`${gateway.url}/v1`);
    const stream = await client.chat.completions.create(
      {
        model: "stub-small",
        messages: [{ role: "user", content: "add 40 and 2" }],
        tools,
        stream: true,
        stream_options: { include_usage: true },
      },
      { headers: { "x-orbiter-rollout-id": "stream-1" } },
    );
    let text = "";
    let args = "";
    let finish: string | null = null;
    let usage: number | undefined;
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      text += chunk.choices[0]?.delta.content ?? "";
      args += chunk.choices[0]?.delta.tool_calls?.[0]?.function?.arguments ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage?.total_tokens ?? usage;
    }
    expect(chunks).toBeGreaterThan(5);
    expect(text).toBe("Let me add those numbers for you.");
    expect(args).toBe('{"a":40,"b":2}');
    expect(finish).toBe("tool_calls");
    expect(usage).toBeGreaterThan(0);
    const episode = await gateway.endEpisode("stream-1");
    expect(episode?.calls[0]).toMatchObject({ status: "ok", streamed: true });
    expect(episode?.calls[0]?.result?.choices[0]?.message).toEqual({
      role: "assistant",
      content: "Let me add those numbers for you.",
      tool_calls: [
        { id: "call_9", type: "function", function: { name: "add", arguments: '{"a":40,"b":2}' } },
      ],
    });
    const item = (await readRecords(out)).find((record) => record.episodeId === "stream-1");
    expect(item?.action).toBe('Let me add those numbers for you.\nadd({"a":40,"b":2})');
    expect(item?.metadata).toMatchObject({ streamed: true, finishReason: "tool_calls" });
  });

  it("passes n and logprobs through and records the other choices and the log-probabilities", async () => {
    stub.script(() => ({
      kind: "message",
      content: "Hi",
      logprobs: [
        { token: "H", logprob: -0.25 },
        { token: "i", logprob: -0.5 },
      ],
    }));
    const client = openAiClient(`${gateway.url}/rollouts/n-1/v1`);
    const completion = await client.chat.completions.create({
      model: "stub-small",
      messages: [{ role: "user", content: "hi" }],
      n: 2,
      logprobs: true,
    });
    expect(completion.choices.map((choice) => choice.message.content)).toEqual(["Hi", "Hi #1"]);
    expect(completion.choices[0]?.logprobs?.content?.map((entry) => entry.logprob)).toEqual([-0.25, -0.5]);
    expect(stub.requests.at(-1)?.body).toMatchObject({ n: 2, logprobs: true });
    await gateway.endEpisode("n-1");
    const item = (await readRecords(out)).find((record) => record.episodeId === "n-1");
    expect(item?.metadata.tokenLogprobs).toEqual([-0.25, -0.5]);
    expect(item?.metadata.n).toBe(2);
    expect(item?.metadata.otherChoices).toMatchObject([{ index: 1, message: { content: "Hi #1" } }]);
  });

  it("lists the upstream's models", async () => {
    const client = openAiClient(`${gateway.url}/v1`);
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids).toEqual(["stub-small", "stub-large"]);
  });
});
