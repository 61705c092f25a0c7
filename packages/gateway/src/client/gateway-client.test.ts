import { request } from "node:http";
import { openAiClient } from "@orbiter/test-support";
import { InvalidArgumentError } from "@orbiter/types";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGatewayClient, type GatewayHandle, GatewayRequestError, startGateway } from "../index.js";
import { type StubUpstream, startStubUpstream } from "../test-support/stub-upstream.js";

let stub: StubUpstream;
let gateway: GatewayHandle;
const logs: string[] = [];

beforeAll(async () => {
  stub = await startStubUpstream();
  // No key of its own and none for the upstream: the client's key goes to the upstream, and only there.
  gateway = await startGateway({
    upstream: { baseURL: stub.baseURL },
    logRequests: true,
    log: (line) => logs.push(line),
  });
});
afterAll(async () => {
  await gateway.close();
  await stub.close();
});

describe("createGatewayClient", () => {
  it("gives rollout URLs, posts rewards, ends and reads episodes, and throws typed errors", async () => {
    const rollouts = createGatewayClient({ url: gateway.url });
    expect(rollouts.rolloutUrl("a/b")).toBe(`${gateway.url}/rollouts/a%2Fb/v1`);
    const openai = openAiClient(rollouts.rolloutUrl("client-1"), "sk-user-own-key-42");
    await openai.chat.completions.create({ model: "m", messages: [{ role: "user", content: "hi" }] });
    expect(await rollouts.episode("client-1")).toMatchObject({ status: "open", calls: 1, reward: 0 });
    const partial = await rollouts.reward("client-1", 0.5, { name: "style", end: false });
    expect(partial).toMatchObject({ status: "open", rewards: [{ value: 0.5, name: "style" }] });
    const final = await rollouts.reward("client-1", 1, { name: "correct" });
    expect(final).toMatchObject({ status: "ended", endReason: "reward", reward: 1.5, calls: 1 });
    expect(gateway.episode("client-1")?.rewards).toEqual([
      { value: 0.5, name: "style" },
      { value: 1, name: "correct" },
    ]);
    const refused = await rollouts.reward("client-1", 1).catch((error: unknown) => error);
    expect(GatewayRequestError.isInstance(refused)).toBe(true);
    expect(refused).toMatchObject({ status: 409, type: "conflict_error" });
    await expect(rollouts.end("unknown-rollout")).rejects.toMatchObject({ status: 404 });
    const unreachable = createGatewayClient({ url: "http://127.0.0.1:9" });
    await expect(unreachable.end("x")).rejects.toMatchObject({
      name: "GatewayRequestError",
      status: undefined,
    });
    expect(() => createGatewayClient({ url: "not a url" })).toThrow(/options.url/);
  });

  it("forwards the client's own key to the upstream only, and never logs it", async () => {
    expect(stub.requests.at(-1)?.headers.authorization).toBe("Bearer sk-user-own-key-42");
    const openai = openAiClient(`${gateway.url}/v1`, "sk-user-own-key-42");
    const ids: string[] = [];
    for await (const model of openai.models.list()) ids.push(model.id);
    expect(ids).toEqual(["stub-small", "stub-large"]);
    expect(stub.requests.at(-1)).toMatchObject({
      url: "/v1/models",
      headers: { authorization: "Bearer sk-user-own-key-42" },
    });
    expect(gateway.url.startsWith("http://127.0.0.1:")).toBe(true);
    expect(logs.some((line) => line.startsWith("POST /rollouts/client-1/v1/chat/completions 200"))).toBe(
      true,
    );
    expect(logs.join("\n")).not.toContain("sk-user-own-key-42");
    const episode = gateway.episode("client-1");
    expect(JSON.stringify(episode)).not.toContain("sk-user-own-key-42");
  });

  it("records a non-streaming call whose client hangs up as aborted, and stops the upstream call", async () => {
    stub.script(() => ({ kind: "message", content: "late", delayMs: 300 }));
    const before = stub.requests.length;
    await new Promise<void>((resolve) => {
      const req = request(`${gateway.url}/rollouts/hangup/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
      });
      req.on("error", () => resolve());
      req.end(JSON.stringify({ model: "m", messages: [{ role: "user", content: "x" }] }));
      const check = setInterval(() => {
        if (stub.requests.length > before) {
          clearInterval(check);
          req.destroy();
          resolve();
        }
      }, 5);
    });
    const episode = await gateway.endEpisode("hangup");
    expect(episode?.calls[0]).toMatchObject({
      status: "aborted",
      error: { message: "the client disconnected" },
    });
    expect(episode?.calls[0]?.latencyMs).toBeLessThan(300);
  });

  it("refuses a reward that is not a finite number before sending it, naming the field", async () => {
    const rollouts = createGatewayClient({ url: gateway.url });
    await rollouts.reward("client-finite", 0, { end: false });
    for (const value of [Number.NaN, Number.POSITIVE_INFINITY, "1" as unknown as number]) {
      const error = await rollouts.reward("client-finite", value).catch((caught: unknown) => caught);
      expect(InvalidArgumentError.isInstance(error), String(error)).toBe(true);
      expect((error as InvalidArgumentError).field).toBe("reward");
    }
    expect(await rollouts.episode("client-finite")).toMatchObject({
      status: "open",
      rewards: [{ value: 0 }],
    });
  });

  it("serves rollout ids of up to 200 characters, and answers a longer one with the OpenAI-style 400", async () => {
    const call = (id: string) =>
      fetch(`${gateway.url}/rollouts/${id}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }] }),
      });
    const longest = "r".repeat(200);
    expect((await call(longest)).status).toBe(200);
    expect(gateway.episode(longest)?.calls).toHaveLength(1);
    const response = await call("a".repeat(5000));
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error?: { type?: string; param?: string } };
    expect(body.error).toMatchObject({ type: "invalid_request_error", param: "rolloutId" });
  });
});
