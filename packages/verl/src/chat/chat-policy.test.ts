import { AbortedError, type ChatMessage, type ToolDefinition } from "@orbiter/types";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../backend/init-backend.js";
import { backendsForTests } from "../internal/testing/test-backends.js";
import { TransformerPolicy } from "../model/transformer-policy.js";
import { ChatPolicy } from "./chat-policy.js";
import { CHAT_MARKERS, chatTokenizer, encodeMessages } from "./chat-template.js";

const backends = await backendsForTests();
const tools: ToolDefinition[] = [{ type: "function", function: { name: "weather" } }];
const messages: ChatMessage[] = [{ role: "user", content: "weather in Oslo?" }];

describe.each(backends)("ChatPolicy on %s", (backend) => {
  let policy: TransformerPolicy;
  beforeAll(async () => {
    await initBackend({ backend });
    policy = new TransformerPolicy({
      tokenizer: chatTokenizer(),
      config: { contextLength: 48, dModel: 16, nHeads: 2, nLayers: 1, dMlp: 32 },
      seed: 5,
    });
  });
  afterAll(() => policy.dispose());

  it("returns the sampled ids and their log-probs, as the policy scores them, and parses the text", async () => {
    const chat = new ChatPolicy(policy, { maxNewTokens: 12 });
    const before = tf.memory().numTensors;
    const { choices, promptTokenIds, overflow } = await chat.chat(messages, {
      tools,
      seed: 3,
      temperature: 0.7,
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(overflow).toBe(false);
    expect(promptTokenIds).toEqual(
      encodeMessages(policy.tokenizer, messages, { tools, addGenerationPrompt: true }),
    );
    expect(promptTokenIds.at(-1)).toBe(policy.tokenizer.encode(CHAT_MARKERS.assistant)[0]);
    const turn = choices[0]!;
    expect(turn.tokenIds.length).toBeGreaterThan(0);
    expect(turn.tokenIds.length).toBeLessThanOrEqual(12);
    expect(turn.tokenLogprobs).toHaveLength(turn.tokenIds.length);
    const stopped = turn.tokenIds.at(-1) === policy.tokenizer.eosId;
    expect(turn.finishReason).toBe(stopped ? (turn.message.tool_calls ? "tool_calls" : "stop") : "length");
    // Re-scoring the sequence with the policy at the same temperature gives the same log-probs.
    const sequence = [...promptTokenIds, ...turn.tokenIds];
    const scored = tf.tidy(() =>
      policy
        .logProbs({
          tokens: tf.tensor2d([sequence], undefined, "int32"),
          responseStart: promptTokenIds.length,
          temperature: 0.7,
        })
        .logProbs.arraySync(),
    )[0]!;
    scored.forEach((value, i) => {
      expect(value).toBeCloseTo(turn.tokenLogprobs[i]!, 3);
    });
    // The same seed draws the same tokens.
    const again = await chat.chat(messages, { tools, seed: 3, temperature: 0.7 });
    expect(again.choices[0]!.tokenIds).toEqual(turn.tokenIds);
  });

  it("samples concurrent calls as one batch and keeps each call's own length limit", async () => {
    const chat = new ChatPolicy(policy, { maxNewTokens: 10 });
    const results = await Promise.all([
      chat.chat(messages, { maxNewTokens: 3, seed: 1 }),
      chat.chat([{ role: "user", content: "time in Lima?" }], { maxNewTokens: 10 }),
      chat.chat(messages, { maxNewTokens: 10, n: 1 }),
    ]);
    expect(chat.counters.batches).toBe(1);
    expect(chat.counters.calls).toBe(3);
    expect(results[0]!.choices[0]!.tokenIds.length).toBeLessThanOrEqual(3);
    for (const result of results) expect(result.choices).toHaveLength(1);
  });

  it("answers a prompt that fills the context with an empty message of finish reason length, counted", async () => {
    const chat = new ChatPolicy(policy);
    const long: ChatMessage[] = [{ role: "user", content: "x".repeat(60) }];
    const result = await chat.chat(long);
    expect(result.overflow).toBe(true);
    expect(result.choices[0]).toMatchObject({
      finishReason: "length",
      tokenIds: [],
      message: { content: "" },
    });
    expect(chat.counters.overflows).toBe(1);
    // A prompt that leaves a little room gets a shorter answer.
    const tight = await chat.chat([{ role: "user", content: "x".repeat(40) }], { maxNewTokens: 30 });
    expect(tight.overflow).toBe(false);
    expect(tight.promptTokenIds.length + tight.choices[0]!.tokenIds.length).toBeLessThanOrEqual(48);
  });

  it("rejects an aborted call with AbortedError", async () => {
    const chat = new ChatPolicy(policy);
    const controller = new AbortController();
    const pending = chat.chat(messages, { signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toThrow(AbortedError);
  });

  it("implements ChatModel: complete() gives choices with token ids, the prompt ids and usage", async () => {
    const chat = new ChatPolicy(policy, { modelName: "tiny", maxNewTokens: 6 });
    expect(await chat.listModels()).toEqual(["tiny"]);
    const result = await chat.complete({ model: "tiny", messages, tools, n: 2, seed: 4, max_tokens: 5 });
    expect(result.model).toBe("tiny");
    expect(result.choices).toHaveLength(2);
    expect(result.choices.map((choice) => choice.index)).toEqual([0, 1]);
    for (const choice of result.choices) {
      expect(choice.tokenIds!.length).toBeLessThanOrEqual(5);
      expect(choice.tokenLogprobs).toHaveLength(choice.tokenIds!.length);
    }
    expect(result.usage?.promptTokens).toBe(result.promptTokenIds?.length);
    expect(result.usage?.completionTokens).toBe(
      result.choices.reduce((sum, choice) => sum + choice.tokenIds!.length, 0),
    );
    await expect(chat.complete({ model: "tiny", messages: [] } as never)).rejects.toThrow(
      /request\.messages/,
    );
  });
});
