import { type ChatMessage, InvalidArgumentError, type ToolDefinition } from "@orbiter/types";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../backend/init-backend.js";
import { ChatPolicy } from "../chat/chat-policy.js";
import { chatTokenizer, renderMessage } from "../chat/chat-template.js";
import { TransformerPolicy } from "../model/transformer-policy.js";
import { conversationsFromItems, supervisedFineTuneEpisodes } from "./episode-fine-tune.js";

const tools: ToolDefinition[] = [{ type: "function", function: { name: "weather" } }];

function conversation(city: string, sky: string): ChatMessage[] {
  return [
    { role: "user", content: `${city}?` },
    {
      role: "assistant",
      content: null,
      tool_calls: [
        { id: "c0", type: "function", function: { name: "weather", arguments: `{"c":"${city}"}` } },
      ],
    },
    { role: "tool", tool_call_id: "c0", content: sky },
    { role: "assistant", content: `${sky}.` },
  ];
}

describe("supervisedFineTuneEpisodes", () => {
  beforeAll(async () => {
    await initBackend({ backend: "wasm" });
  });

  it("reads the whole conversation of each episode from gateway items (latest successful call)", () => {
    const full = conversation("Oslo", "rain");
    const items = [
      { episodeId: "a", step: 0, status: "success", messages: full.slice(0, 2), metadata: { tools } },
      { episodeId: "a", step: 1, status: "success", messages: full, metadata: { tools } },
      { episodeId: "b", step: 0, status: "error", messages: full.slice(0, 1), metadata: {} },
      { episodeId: "c", step: 0, status: "success", messages: full.slice(0, 2), metadata: {} },
    ];
    expect(conversationsFromItems(items)).toEqual([
      { messages: full, tools },
      { messages: full.slice(0, 2) },
    ]);
  });

  it("trains on assistant tokens only, and the policy then makes the teacher's tool calls", async () => {
    const tokenizer = chatTokenizer();
    const policy = new TransformerPolicy({
      tokenizer,
      config: { contextLength: 64, dModel: 32, nHeads: 2, nLayers: 2, dMlp: 64 },
      seed: 1,
    });
    const data = [conversation("Oslo", "rain"), conversation("Rome", "sun"), conversation("Lima", "fog")];
    // Each assistant message renders as marker, text and calls, END: all but the marker are targets.
    const targets = data
      .flat()
      .filter((message) => message.role === "assistant")
      .reduce((sum, message) => sum + tokenizer.encode(renderMessage(message)).length - 1, 0);
    const result = await supervisedFineTuneEpisodes(
      policy,
      data.map((messages) => ({ messages, tools })),
      { epochs: 120, batchSize: 3, learningRate: 1e-2, seed: 2 },
    );
    // Per conversation: each assistant message's text, calls and END, not its leading marker.
    expect(result.history[0]!.tokens).toBe(targets);
    expect(result).toMatchObject({ conversations: 3, truncated: 0, dropped: 0 });
    expect(result.loss).toBeLessThan(0.1);
    const chat = new ChatPolicy(policy, { maxNewTokens: 30, override: { greedy: true } });
    const before = tf.memory().numTensors;
    const first = await chat.chat(data[1]!.slice(0, 1), { tools });
    expect(first.choices[0]!.message.tool_calls?.[0]?.function).toEqual({
      name: "weather",
      arguments: '{"c":"Rome"}',
    });
    const second = await chat.chat(data[1]!.slice(0, 3), { tools });
    expect(second.choices[0]!.message).toEqual({ role: "assistant", content: "sun." });
    expect(tf.memory().numTensors).toBe(before);
    policy.dispose();
  });

  it("cuts or drops conversations that overflow the context, and names bad input", async () => {
    const policy = new TransformerPolicy({
      tokenizer: chatTokenizer(),
      config: { contextLength: 16, dModel: 8, nHeads: 2, nLayers: 1, dMlp: 16 },
    });
    const long = { messages: conversation("Oslo", "rain") }; // ~40 tokens: cut after the first call
    const hopeless = {
      messages: [
        { role: "user", content: "x".repeat(30) },
        { role: "assistant", content: "y" },
      ],
    };
    const result = await supervisedFineTuneEpisodes(policy, [long, hopeless] as never, { epochs: 1 });
    expect(result).toMatchObject({ conversations: 1, truncated: 1, dropped: 1 });
    await expect(supervisedFineTuneEpisodes(policy, [hopeless] as never)).rejects.toThrow(
      InvalidArgumentError,
    );
    await expect(
      supervisedFineTuneEpisodes(policy, [{ messages: [{ role: "robot" }] }] as never),
    ).rejects.toThrow(/episodes\[0\]\.messages\[0\]\.role/);
    policy.dispose();
  });
});
