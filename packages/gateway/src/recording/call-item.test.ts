import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { captureMessages, JsonlSink, renderConversation, TrajectoryDataset } from "@orbiter/trajectory";
import { type ChatCompletionResult, ChatMessage, JsonObject, TrajectoryItem } from "@orbiter/types";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { RecordedCall } from "../episodes/gateway-episode.js";
import { callMetadata, callToItem } from "./call-item.js";
import { isJsonObject, isPlainChatMessage } from "./plain-checks.js";

const weather = {
  id: "c1",
  type: "function" as const,
  function: { name: "weather", arguments: '{"city":"Paris"}' },
};

function call(result: ChatCompletionResult | undefined, overrides: Partial<RecordedCall> = {}): RecordedCall {
  return {
    rolloutId: "run-1",
    index: 2,
    request: {
      model: "m",
      messages: [
        { role: "system", content: "be brief" },
        { role: "user", content: [{ type: "text", text: "weather in Paris?" }] },
      ],
      tools: [{ type: "function", function: { name: "weather", parameters: { type: "object" } } }],
      temperature: 0.5,
    },
    ...(result ? { result } : {}),
    status: "ok",
    streamed: false,
    startedAt: 1_700_000_000_123.7,
    latencyMs: 2.5,
    ...overrides,
  };
}

/** The item as captureMessages (the schema's path) builds it. */
function reference(recorded: RecordedCall, id: string): TrajectoryItem {
  const choice = recorded.result?.choices[0];
  const common = {
    id,
    timestamp: Math.floor(recorded.startedAt),
    reward: 0,
    episodeId: recorded.rolloutId,
    step: recorded.index,
    status: recorded.status === "ok" ? "success" : recorded.status,
    metadata: callMetadata(recorded),
  };
  if (!choice) {
    return TrajectoryItem.parse({
      ...common,
      state: renderConversation(recorded.request.messages),
      action: "",
      messages: recorded.request.messages,
    });
  }
  return captureMessages([...recorded.request.messages, choice.message], common);
}

describe("callToItem", () => {
  it("builds, without a second zod parse, exactly the item captureMessages builds", () => {
    const cases: RecordedCall[] = [
      call({
        model: "m",
        choices: [{ index: 0, finishReason: "stop", message: { role: "assistant", content: "Sunny." } }],
        usage: { promptTokens: 9, completionTokens: 2, totalTokens: 11 },
      }),
      call({
        model: "m",
        choices: [
          {
            index: 0,
            finishReason: "tool_calls",
            message: { role: "assistant", content: null, tool_calls: [weather] },
          },
          {
            index: 1,
            finishReason: "stop",
            message: { role: "assistant", content: "no idea" },
            tokenIds: [1, 2],
            tokenLogprobs: [-0.1, -Infinity],
          },
        ],
        promptTokenIds: [5, 6, 7],
      }),
      call(undefined, { status: "error", error: { message: "upstream answered 500", status: 502 } }),
      // Odd values take the schema's path and still come out the same.
      call({
        model: "m",
        choices: [
          {
            index: 0,
            finishReason: "stop",
            message: { role: "assistant", content: "x" },
            logprobs: { content: [{ logprob: -0 }] },
          },
        ],
      }),
    ];
    for (const recorded of cases) {
      const item = callToItem(recorded, "item-1");
      expect(item).toStrictEqual(reference(recorded, "item-1"));
      expect(TrajectoryItem.parse(JSON.parse(JSON.stringify(item)))).toStrictEqual(
        TrajectoryItem.parse(JSON.parse(JSON.stringify(reference(recorded, "item-1")))),
      );
    }
  });

  it("refuses, as the schema does, an answer it cannot record (a tool call without a name)", () => {
    const broken = call({
      model: "m",
      choices: [
        {
          index: 0,
          finishReason: "tool_calls",
          message: {
            role: "assistant",
            content: null,
            tool_calls: [{ ...weather, function: { name: "", arguments: "" } }],
          },
        },
      ],
    });
    expect(() => callToItem(broken, "x")).toThrow(expect.objectContaining({ name: "InvalidArgumentError" }));
  });
});

describe("a -0 in a recorded call", () => {
  it("keeps its sign in the JSONL file and reads back as -0 (JSON text has -0; JSON.stringify drops it)", async () => {
    const recorded = call(
      {
        model: "m",
        choices: [{ index: 0, finishReason: "stop", message: { role: "assistant", content: "ok" } }],
      },
      { request: { ...call(undefined).request, temperature: -0 } },
    );
    expect(JSON.stringify({ t: -0 })).toBe('{"t":0}');
    expect(Object.is(JSON.parse("-0"), -0)).toBe(true);
    const dir = await mkdtemp(join(tmpdir(), "gateway-negative-zero-"));
    try {
      const path = join(dir, "calls.jsonl");
      const sink = new JsonlSink(path);
      sink.append(callToItem(recorded, "z-1"));
      sink.close();
      expect(await readFile(path, "utf8")).toContain('"temperature":-0,');
      const [item] = (await TrajectoryDataset.fromJsonl(path)).items;
      expect(Object.is(item?.metadata.temperature, -0)).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

const value = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.constant(null),
  fc.constant(undefined),
  fc.constantFrom(-0, Number.NaN, Number.POSITIVE_INFINITY, 1.5),
  fc.array(fc.oneof(fc.string(), fc.integer()), { maxLength: 2 }),
);

describe("the plain checks", () => {
  it("isPlainChatMessage accepts only messages the schema accepts unchanged", () => {
    const message = fc.record(
      {
        role: fc.constantFrom("system", "user", "assistant", "tool", "robot"),
        content: fc.oneof(
          fc.string(),
          fc.constant(null),
          value,
          fc.array(fc.record({ type: fc.constantFrom("text", "image"), text: value }, { requiredKeys: [] }), {
            maxLength: 2,
          }),
        ),
        name: fc.oneof(fc.string(), value),
        tool_calls: fc.array(
          fc.record(
            {
              id: fc.oneof(fc.string(), value),
              type: fc.constantFrom("function", "x"),
              function: fc.record(
                { name: fc.constantFrom("", "f"), arguments: fc.oneof(fc.string(), value) },
                { requiredKeys: [] },
              ),
            },
            { requiredKeys: [] },
          ),
          { maxLength: 2 },
        ),
        tool_call_id: fc.oneof(fc.string(), value),
        other: value,
      },
      { requiredKeys: [] },
    );
    let plain = 0;
    fc.assert(
      fc.property(message, (candidate) => {
        if (!isPlainChatMessage(candidate)) return;
        plain++;
        const parsed = ChatMessage.safeParse(candidate);
        expect(parsed.success).toBe(true);
        expect(parsed.data).toStrictEqual(candidate);
      }),
      { numRuns: 3000, seed: 3 },
    );
    expect(plain).toBeGreaterThan(20);
  });

  it("isJsonObject accepts only what JsonObject accepts unchanged (never -0, NaN, Infinity or undefined)", () => {
    let plain = 0;
    fc.assert(
      fc.property(
        fc.dictionary(fc.string(), fc.oneof(value, fc.dictionary(fc.string(), value, { maxKeys: 2 })), {
          maxKeys: 3,
        }),
        (candidate) => {
          if (!isJsonObject(candidate)) return;
          plain++;
          const parsed = JsonObject.safeParse(candidate);
          expect(parsed.success).toBe(true);
          expect(parsed.data).toStrictEqual(candidate);
        },
      ),
      { numRuns: 2000, seed: 4 },
    );
    expect(plain).toBeGreaterThan(20);
    expect(isJsonObject({ a: -0 })).toBe(false);
    expect(isJsonObject({ a: [1, { b: undefined }] })).toBe(false);
    expect(isJsonObject(new Map())).toBe(false);
  });
});
