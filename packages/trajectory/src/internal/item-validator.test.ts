import { ChatMessage, ContentPart, InvalidArgumentError, ToolCall, TrajectoryItem } from "@orbiter/types";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BAIL, fastValidateItem, ITEM_KEYS, MESSAGE_KEYS, validateItem } from "./item-validator.js";
import { containsNegativeZero, hasNegativeZero } from "./negative-zero.js";

/** zod's output in the validator's canonical form: keys holding `undefined` removed (top level and messages). */
function canonical(value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    if (field === undefined) continue;
    out[key] =
      key === "messages"
        ? (field as Array<Record<string, unknown>>).map((message) =>
            Object.fromEntries(Object.entries(message).filter(([, v]) => v !== undefined)),
          )
        : field;
  }
  return out;
}

/** True when every object in the tree is a plain `{}` or `[]`, as zod builds them. */
function hasPlainPrototypes(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return true;
  if (Array.isArray(value))
    return Object.getPrototypeOf(value) === Array.prototype && value.every(hasPlainPrototypes);
  return Object.getPrototypeOf(value) === Object.prototype && Object.values(value).every(hasPlainPrototypes);
}

/** Values that are wrong (or borderline) for almost any field. */
const oddValue = fc.oneof(
  fc.constantFrom<unknown>(
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    -1,
    1.5,
    2 ** 53,
    2 ** 53 - 1,
    Number.MAX_VALUE,
    Number.MIN_VALUE,
    -0,
    0,
    "",
    "x",
    null,
    true,
    [],
    {},
    undefined,
    "text",
    "function",
    "assistant",
  ),
  fc.anything({ maxDepth: 2 }),
);

const text = fc.string({ unit: "binary", maxLength: 12 });

const toolCall = fc.record({
  id: text,
  type: fc.constant("function"),
  function: fc.record({ name: text, arguments: text }),
});
const message = fc.record(
  {
    role: fc.constantFrom("system", "developer", "user", "assistant", "tool"),
    content: fc.oneof(
      text,
      fc.constant(null),
      fc.array(fc.record({ type: fc.constant("text"), text }), { maxLength: 3 }),
    ),
    name: text,
    tool_calls: fc.array(toolCall, { maxLength: 2 }),
    tool_call_id: text,
  },
  { requiredKeys: ["role"] },
);

/** Valid inputs made only of plain objects and arrays, as code and JSON.parse produce them. */
const validInput = fc.record(
  {
    id: text,
    timestamp: fc.oneof(fc.nat(), fc.constantFrom(0, -0, Number.MAX_SAFE_INTEGER)),
    state: text,
    action: text,
    reward: fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(-0, 5e-324)),
    metadata: fc.dictionary(text, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 }),
    taskId: text,
    agentId: text,
    episodeId: text,
    step: fc.nat(20),
    status: text,
    messages: fc.array(message, { maxLength: 3 }),
  },
  { requiredKeys: ["state", "action", "reward"] },
);

type Input = Record<string, unknown>;
type Mutation = (input: Input) => Input;

/** One targeted change that may (or may not) make an input invalid. */
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  // a top-level field (or an unknown key) set to an odd value
  fc
    .tuple(fc.constantFrom<string>(...ITEM_KEYS, "colour", "toString"), oddValue)
    .map(([key, value]) => (input: Input) => ({ ...input, [key]: value })),
  // an odd value somewhere inside metadata
  fc
    .tuple(text, oddValue, fc.constantFrom("direct", "in-array", "in-object"))
    .map(([key, value, where]) => (input: Input) => {
      const inner = where === "direct" ? value : where === "in-array" ? [1, value] : { inner: value };
      const metadata = typeof input.metadata === "object" && input.metadata !== null ? input.metadata : {};
      return { ...input, metadata: { ...metadata, [key]: inner } };
    }),
  // an odd value in a message, a content part or a tool call
  fc
    .tuple(
      fc.constantFrom(...MESSAGE_KEYS, "colour", "part.type", "part.text", "call.id", "call.type", "fn.name"),
      oddValue,
    )
    .map(([key, value]) => (input: Input) => {
      const base: Input = { role: "assistant", content: [{ type: "text", text: "t" }] };
      let changed: Input;
      if (key === "part.type" || key === "part.text") {
        changed = { ...base, content: [{ type: "text", text: "t", [key.slice(5)]: value }] };
      } else if (key.startsWith("call.") || key === "fn.name") {
        const call: Input = { id: "c", type: "function", function: { name: "f", arguments: "{}" } };
        if (key === "fn.name") call.function = { name: value, arguments: "{}" };
        else call[key.slice(5)] = value;
        changed = { ...base, tool_calls: [call] };
      } else changed = { ...base, [key]: value };
      const messages = Array.isArray(input.messages) ? input.messages : [];
      return { ...input, messages: [...messages, changed] };
    }),
);

/** Valid inputs with 0 to 2 targeted mutations: about a third stay untouched. */
const plainInput = fc
  .tuple(validInput, fc.array(mutation, { maxLength: 2 }))
  .map(([input, mutations]) => mutations.reduce<Input>((current, change) => change(current), input));

class Point {
  x = 1;
}

/** Inputs the fast path must hand over to zod. */
const exoticInput = fc.constantFrom<() => unknown>(
  () =>
    new (class Item {
      state = "s";
      action = "a";
      reward = 1;
    })(),
  () => Object.assign(Object.create({ inherited: 1 }), { state: "s", action: "a", reward: 1 }),
  () => Object.assign(Object.create(null), { state: "s", action: "a", reward: 1 }),
  () => ({ state: "s", action: "a", reward: 1, [Symbol("tag")]: 1 }),
  () => ({ state: "s", action: "a", reward: 1, metadata: { [Symbol("tag")]: 1 } }),
  () => ({ state: "s", action: "a", reward: 1, metadata: JSON.parse('{"__proto__": {"a": 1}, "b": 2}') }),
  () => JSON.parse('{"state": "s", "action": "a", "reward": 1, "__proto__": {}}'),
  () => ({ state: "s", action: "a", reward: 1, metadata: { when: new Date(0) } }),
  () => ({ state: "s", action: "a", reward: 1, metadata: { point: new Point() } }),
  // biome-ignore lint/suspicious/noSparseArray: a hole is what is being tested
  () => ({ state: "s", action: "a", reward: 1, metadata: { list: [1, , 3] } }),
  () => ({ state: "s", action: "a", reward: 1, metadata: Object.assign(Object.create(null), { a: 1 }) }),
  () => ({
    state: "s",
    action: "a",
    reward: 1,
    get metadata() {
      return { lazy: true };
    },
  }),
  () => new String("not an object"),
  () => [],
  () => new Map([["state", "s"]]),
);

describe("fast validator, in lock-step with the TrajectoryItem schema", () => {
  it("knows exactly the schema's keys", () => {
    expect([...ITEM_KEYS]).toEqual(Object.keys(TrajectoryItem.shape));
    expect([...MESSAGE_KEYS]).toEqual(Object.keys(ChatMessage.shape));
    expect(Object.keys(ContentPart.shape)).toEqual(["type", "text"]);
    expect(Object.keys(ToolCall.shape)).toEqual(["id", "type", "function"]);
    expect(Object.keys(ToolCall.shape.function.shape)).toEqual(["name", "arguments"]);
  });

  it("accepts exactly what zod accepts, with the same output, on plain inputs", () => {
    let accepted = 0;
    fc.assert(
      fc.property(plainInput, (input) => {
        const fast = fastValidateItem(input);
        const zod = TrajectoryItem.safeParse(input);
        expect(fast !== BAIL).toBe(zod.success);
        let copy: unknown;
        try {
          copy = structuredClone(input);
        } catch {
          copy = undefined;
        }
        const adopted = copy === undefined ? undefined : fastValidateItem(copy, true);
        if (copy !== undefined) expect(adopted !== BAIL).toBe(zod.success);
        if (fast === BAIL || !zod.success) return;
        accepted++;
        const expected = canonical(zod.data);
        // Defaults are drawn independently (random UUID, clock): take the fast path's.
        if (input.id === undefined) expected.id = fast.id;
        if (input.timestamp === undefined) expected.timestamp = fast.timestamp;
        expect(fast).toStrictEqual(expected);
        expect(hasPlainPrototypes(fast)).toBe(true);
        expect(Object.keys(fast)).toEqual(ITEM_KEYS.filter((key) => key in fast));
        expect(hasNegativeZero(fast)).toBe(containsNegativeZero(fast));
        // Adopting (for values fresh from JSON.parse) gives the same item, without copying what it can keep.
        if (copy === undefined) return;
        const withDefaults = { ...expected };
        if (input.id === undefined) withDefaults.id = adopted?.id;
        if (input.timestamp === undefined) withDefaults.timestamp = adopted?.timestamp;
        expect(adopted).toStrictEqual(withDefaults);
        expect(Object.keys(adopted as object)).toEqual(Object.keys(fast));
        expect(hasNegativeZero(adopted as object)).toBe(containsNegativeZero(adopted));
      }),
      { numRuns: 3000, seed: 20_241_125 },
    );
    // The generator must exercise both sides.
    expect(accepted).toBeGreaterThan(500);
    expect(accepted).toBeLessThan(2500);
  });

  it("hands anything unusual to zod, and agrees with it", () => {
    fc.assert(
      fc.property(exoticInput, (make) => {
        const fast = fastValidateItem(make());
        const zod = TrajectoryItem.safeParse(make());
        if (fast !== BAIL) expect(zod.success).toBe(true);
        let full: unknown;
        try {
          full = validateItem(make(), { what: "trajectory item" });
        } catch (error) {
          expect(InvalidArgumentError.isInstance(error)).toBe(true);
          expect(zod.success).toBe(false);
          return;
        }
        expect(zod.success).toBe(true);
        if (zod.success) {
          const expected = canonical(zod.data);
          expected.id = (full as TrajectoryItem).id;
          expected.timestamp = (full as TrajectoryItem).timestamp;
          expect(full).toStrictEqual(expected);
          expect(hasPlainPrototypes(full)).toBe(true);
          expect(JSON.stringify(full)).toBe(JSON.stringify(expected));
        }
      }),
      { numRuns: 200, seed: 7 },
    );
  });

  it("copies the input, never keeps a reference to it", () => {
    const input = {
      state: "s",
      action: "a",
      reward: 1,
      metadata: { nested: { list: [1, 2] } },
      messages: [],
    };
    const item = validateItem(input, { what: "trajectory item" });
    input.metadata.nested.list.push(3);
    expect(item.metadata).toEqual({ nested: { list: [1, 2] } });
    expect(item.messages).not.toBe(input.messages);
  });

  it("keeps -0 and records the items that hold one", () => {
    const item = validateItem(
      { state: "s", action: "a", reward: -0, metadata: { deep: [{ zero: -0 }] } },
      { what: "trajectory item" },
    );
    expect(Object.is(item.reward, -0)).toBe(true);
    expect(hasNegativeZero(item)).toBe(true);
    expect(hasNegativeZero(validateItem({ state: "s", action: "a", reward: 0 }, { what: "x" }))).toBe(false);
  });

  it.each([
    [{ state: "s", action: "a", reward: Number.NaN }, "reward"],
    [{ state: "s", action: "a", reward: Number.NEGATIVE_INFINITY }, "reward"],
    [{ action: "a", reward: 1 }, "state"],
    [{ state: "s", action: 3, reward: 1 }, "action"],
    [{ state: "s", action: "a", reward: "1" }, "reward"],
    [{ state: "s", action: "a", reward: 1, timestamp: 1.5 }, "timestamp"],
    [{ state: "s", action: "a", reward: 1, id: "" }, "id"],
    [{ state: "s", action: "a", reward: 1, rewrd: 1 }, "rewrd"],
    [{ state: "s", action: "a", reward: 1, metadata: { list: [1, Number.NaN] } }, "metadata.list"],
    [{ state: "s", action: "a", reward: 1, messages: [{ role: "user", content: 5 }] }, "messages[0].content"],
  ])("rejects %j, naming %s", (input, field) => {
    expect(() => validateItem(input, { what: "trajectory item", line: 7 })).toThrow(
      expect.objectContaining({ name: "InvalidArgumentError", field, line: 7 }),
    );
  });
});
