import { startGateway } from "@orbiter/gateway";
import { openAiClient } from "@orbiter/test-support";
import { AbortedError, type ChatMessage } from "@orbiter/types";
import * as tf from "@tensorflow/tfjs";
import type { ChatCompletionMessageParam, ChatCompletionTool } from "openai/resources/chat/completions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../backend/init-backend.js";
import { lookUpSky, SKY, SKY_TOOLS, warmSkyPolicy } from "../internal/testing/sky-agent.js";
import type { TransformerPolicy } from "../model/transformer-policy.js";
import { encodeChat, renderMessage } from "./chat-template.js";

let policy: TransformerPolicy;

beforeAll(async () => {
  await initBackend({ backend: "wasm" });
  policy = await warmSkyPolicy(3);
});
afterAll(() => policy.dispose());

const ask: ChatMessage[] = [{ role: "user", content: "Oslo?" }];

describe("TransformerPolicy as a chat model", () => {
  it("chat() returns the parsed message with the ids it sampled and their log-probs", async () => {
    const before = tf.memory().numTensors;
    const { choices, promptTokenIds, overflow } = await policy.chat(ask, {
      tools: SKY_TOOLS,
      maxNewTokens: 30,
      temperature: 0.5,
      topP: 0.9,
      seed: 2,
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(overflow).toBe(false);
    const turn = choices[0]!;
    expect(turn.finishReason).toBe("tool_calls");
    expect(turn.message.tool_calls?.[0]?.function.name).toBe("sky");
    expect(JSON.parse(turn.message.tool_calls?.[0]?.function.arguments ?? "")).toEqual({ city: "Oslo" });
    // The ids are the message in the chat format (after the assistant marker that ends the prompt), END last.
    expect(turn.tokenIds).toEqual(encodeChat(policy.tokenizer, renderMessage(turn.message)).slice(2));
    expect(turn.tokenIds.at(-1)).toBe(policy.tokenizer.eosId);
    expect(turn.tokenLogprobs).toHaveLength(turn.tokenIds.length);
    expect(turn.tokenLogprobs.every((x) => x <= 0 && Number.isFinite(x))).toBe(true);
    // The log-probs are the policy's own at that temperature.
    const scored = tf.tidy(() =>
      policy
        .logProbs({
          tokens: tf.tensor2d([[...promptTokenIds, ...turn.tokenIds]], undefined, "int32"),
          responseStart: promptTokenIds.length,
          temperature: 0.5,
        })
        .logProbs.arraySync(),
    )[0]!;
    scored.forEach((x, i) => {
      expect(Math.abs(x - turn.tokenLogprobs[i]!)).toBeLessThan(1e-4);
    });
    // Seeded: the same seed draws the same ids.
    const again = await policy.chat(ask, { tools: SKY_TOOLS, temperature: 0.5, topP: 0.9, seed: 2 });
    expect(again.choices[0]?.tokenIds).toEqual(turn.tokenIds);
  });

  it("rejects an aborted call with AbortedError", async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(policy.chat(ask, { signal: controller.signal })).rejects.toThrow(AbortedError);
  });

  it("is served by startGateway({ model: policy }) to the official openai SDK: a tool loop, streamed too", async () => {
    const gateway = await startGateway({ model: policy, apiKey: "secret" });
    try {
      const client = openAiClient(`${gateway.url}/v1`, "secret");
      expect((await client.models.list()).data.map((model) => model.id)).toEqual(["orbiter-policy"]);
      const tools = SKY_TOOLS as ChatCompletionTool[];
      const messages: ChatCompletionMessageParam[] = [{ role: "user", content: "Rome?" }];
      const first = await client.chat.completions.create({
        model: "orbiter-policy",
        messages,
        tools,
        temperature: 0,
      });
      const call = first.choices[0]?.message.tool_calls?.[0];
      expect(first.choices[0]?.finish_reason).toBe("tool_calls");
      expect(call?.type).toBe("function");
      if (call?.type !== "function") return;
      expect(call.function.name).toBe("sky");
      expect(JSON.parse(call.function.arguments)).toEqual({ city: "Rome" });
      expect(first.usage?.completion_tokens).toBeGreaterThan(0);
      messages.push(first.choices[0]!.message);
      messages.push({ role: "tool", tool_call_id: call.id, content: lookUpSky(call.function.arguments) });
      const second = await client.chat.completions.create({
        model: "orbiter-policy",
        messages,
        tools,
        temperature: 0,
      });
      expect(second.choices[0]?.finish_reason).toBe("stop");
      expect(second.choices[0]?.message.content).toBe(SKY.Rome);
      // The same first turn, streamed: the tool call arrives in deltas and adds up to the same call.
      const stream = await client.chat.completions.create({
        model: "orbiter-policy",
        messages: [{ role: "user", content: "Rome?" }],
        tools,
        temperature: 0,
        stream: true,
      });
      let name = "";
      let args = "";
      let finish: string | null = null;
      for await (const chunk of stream) {
        for (const delta of chunk.choices[0]?.delta.tool_calls ?? []) {
          name += delta.function?.name ?? "";
          args += delta.function?.arguments ?? "";
        }
        finish = chunk.choices[0]?.finish_reason ?? finish;
      }
      expect([name, args, finish]).toEqual(["sky", call.function.arguments, "tool_calls"]);
      // Without the key the gateway refuses.
      const stranger = openAiClient(`${gateway.url}/v1`, "wrong");
      await expect(
        stranger.chat.completions.create({
          model: "orbiter-policy",
          messages: [{ role: "user", content: "x" }],
        }),
      ).rejects.toThrow(/401/);
    } finally {
      await gateway.close();
    }
  });
});
