import { describe, expect, it } from "vitest";
import { z } from "zod";
import { InvalidArgumentError } from "../errors/error-kinds.js";
import { functionSchema } from "./function-schema.js";
import { checkOptionsObject, parseWith } from "./parse-with.js";
import { Sample } from "./sample.js";
import { TrajectoryItem } from "./trajectory-item.js";

const parseItem = (input: unknown) => parseWith(TrajectoryItem, input, { what: "trajectory item" });

describe("TrajectoryItem", () => {
  it("fills in id, timestamp and metadata", () => {
    const before = Date.now();
    const item = parseItem({ state: "s", action: "a", reward: 0.5 });
    expect(item.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(item.timestamp).toBeGreaterThanOrEqual(before);
    expect(item.metadata).toEqual({});
  });

  it("keeps given id, timestamp and the optional fields", () => {
    const item = parseItem({
      id: "t-1",
      timestamp: 5,
      state: "s",
      action: "a",
      reward: -1,
      metadata: { agent: "assistant", step: 3, nested: { list: [1, "two", null] } },
      taskId: "task",
      agentId: "agent",
      episodeId: "ep",
      step: 2,
      status: "success",
      messages: [
        { role: "user", content: "What is 2+2?" },
        {
          role: "assistant",
          content: null,
          tool_calls: [{ id: "c1", type: "function", function: { name: "calc", arguments: '{"x":"2+2"}' } }],
        },
        { role: "tool", tool_call_id: "c1", content: "4" },
      ],
    });
    expect(item.id).toBe("t-1");
    expect(item.timestamp).toBe(5);
    expect(item.messages?.[1]?.tool_calls?.[0]?.function.name).toBe("calc");
  });

  it.each([
    [{ state: "s", action: "a", reward: Number.NaN }, "reward"],
    [{ state: "s", action: "a", reward: Number.POSITIVE_INFINITY }, "reward"],
    [{ action: "a", reward: 1 }, "state"],
    [{ state: 1, action: "a", reward: 1 }, "state"],
    [{ state: "s", action: "a", reward: 1, colour: "red" }, "colour"],
    [{ state: "s", action: "a", reward: 1, metadata: { bad: Number.NaN } }, "metadata.bad"],
    [{ state: "s", action: "a", reward: 1, step: -1 }, "step"],
    [{ state: "s", action: "a", reward: 1, messages: [{ role: "robot" }] }, "messages[0].role"],
  ])("rejects %j naming %s", (input, field) => {
    expect(() => parseItem(input)).toThrow(InvalidArgumentError);
    expect(() => parseItem(input)).toThrow(expect.objectContaining({ field }));
  });
});

describe("Sample", () => {
  it("fills id and metadata, keeps score optional", () => {
    const sample = parseWith(Sample, { input: "q", output: "a" }, { what: "sample" });
    expect(sample.score).toBeUndefined();
    expect(sample.metadata).toEqual({});
    expect(sample.id.length).toBeGreaterThan(0);
  });

  it("rejects a NaN score", () => {
    expect(() =>
      parseWith(Sample, { input: "q", output: "a", score: Number.NaN }, { what: "sample" }),
    ).toThrow(expect.objectContaining({ field: "score" }));
  });
});

describe("checkOptionsObject", () => {
  it("accepts an object and refuses null, an array and a primitive, naming the argument and keeping the value", () => {
    expect(() => checkOptionsObject({}, "Thing options")).not.toThrow();
    for (const value of [null, [], 3, "x", undefined]) {
      let error: unknown;
      try {
        checkOptionsObject(value, "Thing options");
      } catch (caught) {
        error = caught;
      }
      expect(InvalidArgumentError.isInstance(error)).toBe(true);
      expect(error).toMatchObject({ message: "Thing options must be an object", field: "options", value });
    }
  });
});

describe("functionSchema", () => {
  const Options = z.strictObject({
    onEvent: functionSchema<(event: string) => void>("expected a function (event) => void").optional(),
    parse: functionSchema<(text: string) => number>(),
  });
  const parse = (input: unknown) => parseWith(Options, input, { what: "options", path: "options" });

  it("keeps a function (plain, arrow or async) as it is", () => {
    const parseText = (text: string) => text.length;
    async function onEvent(): Promise<void> {}
    const parsed = parse({ parse: parseText, onEvent });
    expect(parsed.parse).toBe(parseText);
    expect(parsed.onEvent).toBe(onEvent);
    expect(parsed.parse("abc")).toBe(3);
  });

  it("refuses anything else, naming the field, with the given message or zod's own", () => {
    for (const value of [null, "f", 1, {}, [() => 1]]) {
      let error: unknown;
      try {
        parse({ parse: () => 1, onEvent: value });
      } catch (caught) {
        error = caught;
      }
      expect(InvalidArgumentError.isInstance(error) && error.field).toBe("options.onEvent");
      expect((error as Error).message).toContain("expected a function (event) => void");
    }
    expect(() => parse({ parse: "not a function" })).toThrow(/"options\.parse": Invalid input/);
  });
});
