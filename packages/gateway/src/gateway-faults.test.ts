import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { openAiClient } from "@orbiter/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GatewayHandle, startGateway } from "./index.js";
import { durabilityOf } from "./options/gateway-options.js";
import { post, readRecords, temporaryFolder } from "./test-support/fixtures.js";
import { type StubUpstream, startStubUpstream } from "./test-support/stub-upstream.js";

const GATEWAY_KEY = "gw-key-0123456789";
const UPSTREAM_KEY = "sk-upstream-abcdef987654";

let stub: StubUpstream;
let gateway: GatewayHandle;
let folder: Awaited<ReturnType<typeof temporaryFolder>>;
let out = "";
const auth = { "content-type": "application/json", authorization: `Bearer ${GATEWAY_KEY}` };
const chat = (url: string) => `${url}/v1/chat/completions`;
const okBody = JSON.stringify({ model: "stub-small", messages: [{ role: "user", content: "hi" }] });

beforeAll(async () => {
  folder = await temporaryFolder("faults");
  out = join(folder.path, "calls.jsonl");
  stub = await startStubUpstream();
  gateway = await startGateway({
    upstream: { baseURL: stub.baseURL, apiKey: UPSTREAM_KEY, timeoutMs: 300 },
    out,
    apiKey: GATEWAY_KEY,
    bodyLimitBytes: 64 * 1024,
  });
});
afterAll(async () => {
  await gateway.close();
  await stub.close();
  await folder.remove();
});

async function recordedCount(): Promise<number> {
  return (await readRecords(out)).length;
}

describe("the API key", () => {
  it("answers 401 without it or with a wrong one, on every route but /v1/models", async () => {
    expect((await post(chat(gateway.url), okBody)).status).toBe(401);
    const wrong = await post(chat(gateway.url), okBody, { ...auth, authorization: "Bearer nope" });
    expect(wrong.status).toBe(401);
    expect(wrong.json.error?.type).toBe("authentication_error");
    expect((await post(`${gateway.url}/rollouts/r1/reward`, '{"reward":1}')).status).toBe(401);
    expect((await post(`${gateway.url}/rollouts/r1/end`, "")).status).toBe(401);
    expect((await post(`${gateway.url}/v1/traces`, "{}")).status).toBe(401);
    const models = await fetch(`${gateway.url}/v1/models`);
    expect(models.status).toBe(200);
    expect(await recordedCount()).toBe(0);
    const client = openAiClient(`${gateway.url}/v1`, GATEWAY_KEY);
    const completion = await client.chat.completions.create({
      model: "m",
      messages: [{ role: "user", content: "ok" }],
    });
    expect(completion.choices[0]?.message.content).toBe("echo: ok");
    // The gateway's own key is not the upstream's: the upstream got its own.
    expect(stub.requests.at(-1)?.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
  });
});

describe("bad input gets an OpenAI-style 4xx and is not recorded", () => {
  it("413 for a body over the limit", async () => {
    const before = await recordedCount();
    const huge = JSON.stringify({
      model: "m",
      messages: [{ role: "user", content: "x".repeat(100 * 1024) }],
    });
    const response = await post(chat(gateway.url), huge, auth);
    expect(response.status).toBe(413);
    expect(response.json.error?.type).toBe("invalid_request_error");
    expect(await recordedCount()).toBe(before);
  });

  it("400 for malformed JSON", async () => {
    const response = await post(chat(gateway.url), '{"model": "m", "messages": [', auth);
    expect(response.status).toBe(400);
    expect(response.json.error?.message).toMatch(/not valid JSON/);
  });

  it.each([
    [{ messages: [{ role: "user", content: "hi" }] }, "model"],
    [{ model: "m", messages: [] }, "messages"],
    [{ model: "m", messages: [{ role: "wizard", content: "hi" }] }, "messages[0].role"],
    [{ model: "m", messages: [{ role: "user", content: "hi" }], temperature: 7 }, "temperature"],
    [
      {
        model: "m",
        messages: [{ role: "user", content: "hi" }],
        tools: [{ type: "function", function: {} }],
      },
      "tools[0].function.name",
    ],
    [{ model: "m", messages: [{ role: "user", content: "hi" }], n: 0 }, "n"],
  ])("400 naming the field for %j", async (body, param) => {
    const before = await recordedCount();
    const response = await post(chat(gateway.url), JSON.stringify(body), auth);
    expect(response.status).toBe(400);
    expect(response.json.error).toMatchObject({ type: "invalid_request_error", param });
    expect(response.json.error?.message).toContain(param);
    expect(await recordedCount()).toBe(before);
  });

  it("accepts an assistant message sent back with empty response-only fields, refuses a non-empty one", async () => {
    const history = (extra: Record<string, unknown>) =>
      JSON.stringify({
        model: "m",
        messages: [
          { role: "user", content: "hi" },
          { role: "assistant", content: "hello", refusal: null, annotations: [], ...extra },
          { role: "user", content: "again" },
        ],
      });
    const accepted = await post(chat(gateway.url), history({}), auth);
    expect(accepted.status).toBe(200);
    expect(stub.requests.at(-1)?.body?.messages).toMatchObject({
      1: { role: "assistant", content: "hello" },
    });
    expect(
      Object.keys((stub.requests.at(-1)?.body?.messages as Array<object> | undefined)?.[1] ?? {}),
    ).toEqual(["role", "content"]);
    const refused = await post(chat(gateway.url), history({ refusal: "I cannot" }), auth);
    expect(refused.status).toBe(400);
    expect(refused.json.error?.param).toBe("messages[1].refusal");
  });

  it("400 for a bad rollout id and a bad reward; 404 for ending an unknown rollout", async () => {
    const badId = await post(chat(gateway.url), okBody, {
      ...auth,
      "x-orbiter-rollout-id": "no spaces/allowed",
    });
    expect(badId.json.error).toMatchObject({ param: "x-orbiter-rollout-id" });
    expect(badId.status).toBe(400);
    const badReward = await post(`${gateway.url}/rollouts/r2/reward`, '{"reward":"high"}', auth);
    expect(badReward.status).toBe(400);
    expect(badReward.json.error?.param).toBe("reward");
    const unknown = await post(`${gateway.url}/rollouts/never/end`, "", auth);
    expect(unknown.status).toBe(404);
  });
});

describe("upstream failures", () => {
  it("502 with the upstream's error, recorded as a failed call, the key redacted", async () => {
    stub.script(() => ({ kind: "error", status: 500, message: `boom (key ${UPSTREAM_KEY} rejected)` }));
    const response = await post(`${gateway.url}/rollouts/fail-1/v1/chat/completions`, okBody, auth);
    expect(response.status).toBe(502);
    expect(response.json.error?.type).toBe("upstream_error");
    expect(response.json.error?.message).toContain("upstream answered 500: boom");
    expect(response.json.error?.message).not.toContain(UPSTREAM_KEY);
    const episode = await gateway.endEpisode("fail-1");
    expect(episode?.calls[0]).toMatchObject({ status: "error", error: { status: 502 } });
    const item = (await readRecords(out)).find((record) => record.episodeId === "fail-1");
    expect(item).toMatchObject({ status: "error", action: "", state: "user: hi" });
    expect(item?.metadata.error).toMatchObject({ status: 502 });
  });

  it("502 when the upstream does not answer in time, or sends garbage", async () => {
    stub.script(() => ({ kind: "hang" }));
    const slow = await post(`${gateway.url}/rollouts/slow-1/v1/chat/completions`, okBody, auth);
    expect(slow.status).toBe(502);
    expect(slow.json.error?.message).toMatch(/did not answer within 300 ms/);
    stub.script(() => ({ kind: "raw", status: 200, contentType: "text/html", body: "<html>proxy</html>" }));
    const garbage = await post(`${gateway.url}/rollouts/slow-1/v1/chat/completions`, okBody, auth);
    expect(garbage.status).toBe(502);
    const episode = await gateway.endEpisode("slow-1");
    expect(episode?.calls.map((call) => call.status)).toEqual(["error", "error"]);
  });

  it("502 for a streaming call whose upstream fails before the first chunk", async () => {
    stub.script(() => ({ kind: "error", status: 429, message: "rate limited" }));
    const client = openAiClient(`${gateway.url}/rollouts/fail-2/v1`, GATEWAY_KEY);
    await expect(
      client.chat.completions.create({
        model: "m",
        messages: [{ role: "user", content: "x" }],
        stream: true,
      }),
    ).rejects.toMatchObject({ status: 502 });
    const episode = await gateway.endEpisode("fail-2");
    expect(episode?.calls[0]).toMatchObject({ status: "error", streamed: true });
  });

  it("records a stream the upstream cuts off as failed, with what was streamed", async () => {
    stub.script(() => ({ kind: "cut", content: "part ", chunks: 3 }));
    const client = openAiClient(`${gateway.url}/rollouts/cut-1/v1`, GATEWAY_KEY);
    const stream = await client.chat.completions.create({
      model: "m",
      messages: [{ role: "user", content: "x" }],
      stream: true,
    });
    let text = "";
    await expect(
      (async () => {
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
      })(),
    ).rejects.toThrow();
    expect(text).toBe("part part part ");
    const episode = await gateway.endEpisode("cut-1");
    expect(episode?.calls[0]?.status).toBe("error");
    expect(episode?.calls[0]?.result?.choices[0]?.message.content).toBe("part part part ");
  });
});

describe("a client that disconnects mid-stream", () => {
  it("leaves the call recorded as aborted with what was streamed so far", async () => {
    stub.script(() => ({
      kind: "message",
      content: "abcdefghijklmnopqrstuvwxyz",
      chunkSize: 2,
      chunkDelayMs: 30,
    }));
    const controller = new AbortController();
    const client = openAiClient(`${gateway.url}/rollouts/abort-1/v1`, GATEWAY_KEY);
    const stream = await client.chat.completions.create(
      { model: "m", messages: [{ role: "user", content: "x" }], stream: true },
      { signal: controller.signal },
    );
    let text = "";
    try {
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? "";
        if (text.length >= 6) controller.abort();
      }
    } catch {
      // The SDK may end the iteration quietly or throw an abort error: either way the client is gone.
    }
    expect(text.length).toBeLessThan(26);
    const episode = await gateway.endEpisode("abort-1");
    const call = episode?.calls[0];
    expect(call?.status).toBe("aborted");
    const partial = call?.result?.choices[0]?.message.content as string;
    expect(partial.startsWith("abcdef")).toBe(true);
    expect(partial.length).toBeLessThan(26);
    const item = (await readRecords(out)).find((record) => record.episodeId === "abort-1");
    expect(item).toMatchObject({ status: "aborted", action: partial });
    stub.script((body) => ({
      kind: "message",
      content: `echo: ${(body.messages as Array<{ content: string }>).at(-1)?.content}`,
    }));
  });
});

describe("episodes", () => {
  it("answers 409 for a call or a reward to an ended rollout, and ends idle episodes", async () => {
    await post(`${gateway.url}/rollouts/done-1/v1/chat/completions`, okBody, auth);
    expect((await post(`${gateway.url}/rollouts/done-1/end`, "", auth)).status).toBe(200);
    const again = await post(`${gateway.url}/rollouts/done-1/v1/chat/completions`, okBody, auth);
    expect(again.status).toBe(409);
    expect(again.json.error?.type).toBe("conflict_error");
    expect((await post(`${gateway.url}/rollouts/done-1/reward`, '{"reward":1}', auth)).status).toBe(409);
  });

  it("never writes a key into the record file", async () => {
    const text = await readFile(out, "utf8");
    expect(text.length).toBeGreaterThan(0);
    expect(text).not.toContain(GATEWAY_KEY);
    expect(text).not.toContain(UPSTREAM_KEY);
  });
});

describe("idle episodes", () => {
  it("end after idleTimeoutMs with reason idle", async () => {
    const idle = await startGateway({ upstream: { baseURL: stub.baseURL }, idleTimeoutMs: 50 });
    try {
      await post(`${idle.url}/rollouts/quiet/v1/chat/completions`, okBody);
      expect(idle.episode("quiet")?.status).toBe("open");
      await new Promise((resolve) => setTimeout(resolve, 150));
      expect(idle.episode("quiet")).toMatchObject({ status: "ended", endReason: "idle" });
    } finally {
      await idle.close();
    }
  });

  it("rejects options that break the schema, naming the field", async () => {
    await expect(startGateway({})).rejects.toMatchObject({
      name: "InvalidArgumentError",
      field: "options.model",
    });
    await expect(startGateway({ upstream: { baseURL: "ftp://x" } })).rejects.toMatchObject({
      field: "options.upstream.baseURL",
    });
    await expect(
      startGateway({ upstream: { baseURL: stub.baseURL }, bodyLimitBytes: -1 }),
    ).rejects.toMatchObject({ field: "options.bodyLimitBytes" });
    await expect(
      startGateway({ upstream: { baseURL: stub.baseURL }, durability: "fsync" as "synced" }),
    ).rejects.toMatchObject({ field: "options.durability" });
    await expect(
      startGateway({ upstream: { baseURL: stub.baseURL }, durability: "none", syncBeforeResponse: true }),
    ).rejects.toMatchObject({ field: "options.syncBeforeResponse" });
  });
});

describe("durability options", () => {
  it("default to written; the deprecated syncBeforeResponse maps to synced (true) and none (false)", () => {
    expect(durabilityOf({})).toBe("written");
    expect(durabilityOf({ syncBeforeResponse: true })).toBe("synced");
    expect(durabilityOf({ syncBeforeResponse: false })).toBe("none");
    expect(durabilityOf({ durability: "synced" })).toBe("synced");
  });
});
