import { openAiClient } from "@orbiter/test-support";
import type { ChatCompletionRequest, ChatModel, ChatStreamEvent } from "@orbiter/types";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GatewayEpisode, type GatewayHandle, startGateway } from "./index.js";

/** A tiny in-process "policy": answers with the prompt reversed, one token id per character. */
class ReversePolicy implements ChatModel {
  readonly seen: ChatCompletionRequest[] = [];
  async listModels() {
    return ["reverse-policy"];
  }
  #answer(request: ChatCompletionRequest) {
    this.seen.push(request);
    const last = request.messages.at(-1);
    const text = [...(typeof last?.content === "string" ? last.content : "")].reverse().join("");
    const tokenIds = [...text].map((char) => char.charCodeAt(0));
    return { text, tokenIds, tokenLogprobs: tokenIds.map((_, index) => -0.1 * (index + 1)) };
  }
  async complete(request: ChatCompletionRequest) {
    const { text, tokenIds, tokenLogprobs } = this.#answer(request);
    return {
      model: "reverse-policy",
      promptTokenIds: [1, 2, 3],
      usage: { promptTokens: 3, completionTokens: tokenIds.length, totalTokens: 3 + tokenIds.length },
      choices: [
        {
          index: 0,
          finishReason: "stop" as const,
          message: { role: "assistant" as const, content: text },
          tokenIds,
          tokenLogprobs,
        },
      ],
    };
  }
  async *stream(request: ChatCompletionRequest): AsyncIterable<ChatStreamEvent> {
    const result = await this.complete(request);
    const choice = result.choices[0];
    for (let position = 0; position < (choice?.tokenIds.length ?? 0); position++) {
      yield {
        type: "delta",
        choiceIndex: 0,
        content: choice?.message.content.charAt(position) ?? "",
        tokenIds: [choice?.tokenIds[position] as number],
        tokenLogprobs: [choice?.tokenLogprobs[position] as number],
      };
    }
    yield { type: "done", result };
  }
}

const policy = new ReversePolicy();
const ended: GatewayEpisode[] = [];
let gateway: GatewayHandle;

beforeAll(async () => {
  gateway = await startGateway({ model: policy, onEpisodeEnd: (episode) => ended.push(episode) });
});
afterAll(async () => {
  await gateway.close();
});

describe("an in-process ChatModel served by the gateway, without a record file", () => {
  it("keeps each call's sampled token ids and log-probs in the episode handed back by endEpisode", async () => {
    const client = openAiClient(`${gateway.url}/rollouts/episode-a/v1`);
    const first = await client.chat.completions.create({
      model: "reverse-policy",
      messages: [{ role: "user", content: "abc" }],
    });
    expect(first.choices[0]?.message.content).toBe("cba");
    const stream = await client.chat.completions.create({
      model: "reverse-policy",
      messages: [
        { role: "user", content: "abc" },
        { role: "assistant", content: "cba" },
        { role: "user", content: "xyz" },
      ],
      stream: true,
    });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    expect(text).toBe("zyx");

    expect(gateway.episode("episode-a")?.status).toBe("open");
    const episode = await gateway.endEpisode("episode-a");
    expect(episode?.status).toBe("ended");
    expect(episode?.endReason).toBe("end");
    expect(episode?.calls.map((call) => [call.index, call.status, call.streamed])).toEqual([
      [0, "ok", false],
      [1, "ok", true],
    ]);
    expect(episode?.calls[0]?.result?.choices[0]?.tokenIds).toEqual([99, 98, 97]);
    expect(episode?.calls[0]?.result?.promptTokenIds).toEqual([1, 2, 3]);
    expect(episode?.calls[1]?.result?.choices[0]?.tokenIds).toEqual([122, 121, 120]);
    expect(episode?.calls[1]?.result?.choices[0]?.tokenLogprobs).toHaveLength(3);
    expect(episode?.calls[1]?.request.messages).toHaveLength(3);
    expect(ended.map((episodeEnded) => episodeEnded.rolloutId)).toContain("episode-a");
    expect(await gateway.endEpisode("episode-a")).toBe(episode);
    expect(await gateway.endEpisode("never-seen")).toBeUndefined();
  });

  it("refuses calls to an ended rollout with 409 and lists the model's ids", async () => {
    const client = openAiClient(`${gateway.url}/rollouts/episode-a/v1`);
    await expect(
      client.chat.completions.create({
        model: "reverse-policy",
        messages: [{ role: "user", content: "again" }],
      }),
    ).rejects.toMatchObject({ status: 409 });
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids).toEqual(["reverse-policy"]);
  });

  it("serves parallel calls of one episode with distinct call indices", async () => {
    const client = openAiClient(`${gateway.url}/rollouts/parallel/v1`);
    await Promise.all(
      ["one", "two", "three", "four"].map((content) =>
        client.chat.completions.create({ model: "reverse-policy", messages: [{ role: "user", content }] }),
      ),
    );
    const episode = await gateway.endEpisode("parallel");
    expect(episode?.calls.map((call) => call.index)).toEqual([0, 1, 2, 3]);
    expect(new Set(episode?.calls.map((call) => call.result?.choices[0]?.message.content))).toEqual(
      new Set(["eno", "owt", "eerht", "ruof"]),
    );
  });
});

describe("closing the gateway", () => {
  it("aborts calls still running after closeGraceMs, records them as aborted and ends their episodes", async () => {
    const started: string[] = [];
    const stuck: ChatModel = {
      complete: (request, options) =>
        new Promise((_, reject) => {
          started.push(request.model);
          options?.signal?.addEventListener("abort", () => reject(options.signal?.reason));
        }),
    };
    const endedHere: GatewayEpisode[] = [];
    const closing = await startGateway({
      model: stuck,
      closeGraceMs: 50,
      onEpisodeEnd: (episode) => endedHere.push(episode),
    });
    const pending = fetch(`${closing.url}/rollouts/stuck-1/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "slow", messages: [{ role: "user", content: "wait" }] }),
    });
    while (started.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await closing.close();
    const response = await pending;
    expect(response.status).toBe(503);
    expect(endedHere).toHaveLength(1);
    expect(endedHere[0]).toMatchObject({ rolloutId: "stuck-1", status: "ended", endReason: "close" });
    expect(endedHere[0]?.calls[0]).toMatchObject({
      status: "aborted",
      error: { message: "the gateway is closing" },
    });
  });
});

describe("ended episodes", () => {
  it("are kept up to retainEndedEpisodes, while late calls to any ended rollout still get 409", async () => {
    const small = await startGateway({ model: new ReversePolicy(), retainEndedEpisodes: 1 });
    try {
      const call = (rollout: string) =>
        fetch(`${small.url}/rollouts/${rollout}/v1/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "ab" }] }),
        });
      for (const rollout of ["first", "second"]) {
        expect((await call(rollout)).status).toBe(200);
        expect((await small.endEpisode(rollout))?.calls).toHaveLength(1);
      }
      expect(small.episode("first")).toBeUndefined();
      expect(small.episode("second")?.status).toBe("ended");
      expect((await call("first")).status).toBe(409);
    } finally {
      await small.close();
    }
  });
});
