import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openAiClient } from "@orbiter/test-support";
import { AssistantMessage, type ChatCompletionRequest, type ChatCompletionResult } from "@orbiter/types";
import OpenAI from "openai";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { RecordedCall } from "../episodes/gateway-episode.js";
import { startGateway } from "../index.js";
import { checkResult } from "../server/check-result.js";
import { parseChatRequest } from "../server/parse-chat-request.js";
import { callToItem } from "./call-item.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "gateway-checked-"));
});
afterEach(async () => {
  vi.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

function served(request: ChatCompletionRequest, result: ChatCompletionResult): RecordedCall {
  return {
    rolloutId: "run-1",
    index: 0,
    request,
    result,
    status: "ok",
    streamed: false,
    startedAt: 1_700_000_000_000,
    latencyMs: 1,
  };
}

const answer = (): ChatCompletionResult => ({
  model: "m",
  choices: [
    {
      index: 0,
      finishReason: "tool_calls",
      message: {
        role: "assistant",
        content: null,
        tool_calls: [{ id: "c1", type: "function", function: { name: "weather", arguments: "{}" } }],
      },
    },
  ],
});

describe("messages checked when a call is served", () => {
  it("are not walked again when the call is recorded; a message from anywhere else is", () => {
    const request = parseChatRequest({ model: "m", messages: [{ role: "user", content: "weather?" }] });
    const result = checkResult(answer());
    const message = result.choices[0]?.message as { tool_calls: Array<{ function: { name: string } }> };
    // Changed after its check (which the gateway never does): recording trusts the check and does not look again.
    (message.tool_calls[0] as { function: { name: string } }).function.name = "";
    const item = callToItem(served(request, result), "i-1");
    expect(item.messages?.[1]).toBe(message);
    expect(item.status).toBe("success");
    // The same broken answer that was never checked (a copy, as from a trace) is checked, and refused.
    const unchecked = served(structuredClone(request), structuredClone(result));
    expect(() => callToItem(unchecked, "i-2")).toThrow(
      expect.objectContaining({ name: "InvalidArgumentError" }),
    );
  });

  it.each([false, true])(
    "a bad answer is refused exactly once (stream: %s): one schema check, a 500 naming it, one recorded failed call",
    async (stream) => {
      const out = join(dir, "calls.jsonl");
      const gateway = await startGateway({
        out,
        model: {
          async complete() {
            return {
              model: "m",
              choices: [{ index: 0, finishReason: "stop", message: { role: "assistant", content: 42 } }],
            };
          },
        } as never,
      });
      const parse = vi.spyOn(AssistantMessage, "safeParse");
      try {
        const client = openAiClient(`${gateway.url}/rollouts/bad/v1`);
        const error = await client.chat.completions
          .create({ model: "m", messages: [{ role: "user", content: "hi" }], stream })
          .then(
            () => undefined,
            (caught: unknown) => caught,
          );
        expect(error).toBeInstanceOf(OpenAI.APIError);
        expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(500);
        expect((error as Error).message).toContain("choices[0].message.content");
        const episode = await gateway.endEpisode("bad");
        expect(episode?.calls.map((call) => [call.status, call.streamed, call.result])).toEqual([
          ["error", stream, undefined],
        ]);
        expect(parse).toHaveBeenCalledTimes(1);
      } finally {
        await gateway.close();
      }
      const lines = (await readFile(out, "utf8")).trim().split("\n");
      expect(lines).toHaveLength(1);
      const item = JSON.parse(lines[0] as string);
      expect([item.status, item.action, item.messages]).toEqual([
        "error",
        "",
        [{ role: "user", content: "hi" }],
      ]);
    },
  );

  it("a good answer streamed for a model without stream() is served and recorded with no schema parse", async () => {
    const answerMessage = { role: "assistant" as const, content: "hello" };
    const gateway = await startGateway({
      model: {
        async complete() {
          return {
            model: "m",
            choices: [{ index: 0, finishReason: "stop" as const, message: answerMessage }],
          };
        },
      },
    });
    const plain = vi.spyOn(AssistantMessage, "safeParse");
    try {
      const client = openAiClient(`${gateway.url}/rollouts/good/v1`);
      const stream = await client.chat.completions.create({
        model: "m",
        messages: [{ role: "user", content: "hi" }],
        stream: true,
      });
      let text = "";
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
      expect(text).toBe("hello");
      const episode = await gateway.endEpisode("good");
      expect(episode?.calls[0]?.result?.choices[0]?.message).toBe(answerMessage);
      expect(plain).not.toHaveBeenCalled();
    } finally {
      await gateway.close();
    }
  });
});
