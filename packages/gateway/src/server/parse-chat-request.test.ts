import { ChatCompletionRequest } from "@orbiter/types";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { acceptChatRequest, parseChatRequest } from "./parse-chat-request.js";

/** Values that are sometimes right and often subtly wrong for each field. */
const anyScalar = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.constantFrom(0, -0, 1, 2, 2.5, -1, 0.5, 128, 129, 20, 21, 2 ** 60, 1e-9),
  fc.integer({ min: -5, max: 200 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom("", "auto", "none", "required", "text", "function", "x"),
);
/** Mostly right, sometimes wrong: so that both paths are taken often. */
const mostly = <T>(right: fc.Arbitrary<T>, wrong: fc.Arbitrary<unknown> = anyScalar) =>
  fc.oneof({ weight: 15, arbitrary: right }, { weight: 1, arbitrary: wrong });
const part = mostly(
  fc.record({ type: fc.constant("text"), text: fc.string() }),
  fc.oneof(
    fc.record({ type: fc.constantFrom("text", "image_url"), text: fc.oneof(fc.string(), fc.integer()) }),
    fc.record({ type: fc.constant("text"), text: fc.string(), extra: fc.integer() }),
  ),
);
const toolCall = mostly(
  fc.record({
    id: fc.string(),
    type: fc.constant("function"),
    function: fc.record({ name: fc.constantFrom("f", "search"), arguments: fc.string() }),
  }),
  fc.record(
    {
      id: fc.oneof(fc.string(), fc.integer()),
      type: fc.constantFrom("function", "other"),
      function: fc.record(
        { name: fc.constantFrom("", "f"), arguments: fc.oneof(fc.string(), fc.constant({})) },
        { requiredKeys: [] },
      ),
    },
    { requiredKeys: [] },
  ),
);
const message = fc
  .record(
    {
      role: mostly(fc.constantFrom("system", "developer", "user", "assistant", "tool"), fc.constant("robot")),
      content: mostly(
        fc.oneof(fc.string(), fc.constant(null), fc.array(part, { maxLength: 2 })),
        fc.integer(),
      ),
      name: mostly(fc.string(), fc.integer()),
      tool_calls: mostly(fc.array(toolCall, { maxLength: 2 }), fc.constant("x")),
      tool_call_id: mostly(fc.string(), fc.constant(null)),
      weird: fc.string(),
    },
    { requiredKeys: ["role"] },
  )
  .map((value) => {
    // An unknown key is wrong: keep it rare.
    if ("weird" in value && (value.weird as string).length > 1) delete (value as { weird?: string }).weird;
    return value;
  });
const json = fc.jsonValue({ maxDepth: 2 });
const tool = mostly(
  fc.record(
    {
      type: fc.constant("function"),
      function: fc.record(
        {
          name: fc.constantFrom("f", "g"),
          description: mostly(fc.string(), fc.integer()),
          parameters: mostly(fc.dictionary(fc.string(), json, { maxKeys: 3 }), json),
          strict: mostly(fc.oneof(fc.boolean(), fc.constant(null)), fc.string()),
          extra: json,
        },
        { requiredKeys: ["name"] },
      ),
      extra: json,
    },
    { requiredKeys: ["type", "function"] },
  ),
  fc.record({
    type: fc.constantFrom("function", "web"),
    function: fc.record({ name: fc.constantFrom("", "f") }),
  }),
);
const nullable = <T>(right: fc.Arbitrary<T>) => mostly(fc.oneof(right, fc.constant(null)));
const request = fc.record(
  {
    model: mostly(fc.constantFrom("gpt", "m"), fc.oneof(fc.constant(""), fc.integer())),
    messages: mostly(
      fc.array(message, { minLength: 1, maxLength: 4 }),
      fc.oneof(fc.constant([]), fc.constant("hi")),
    ),
    tools: mostly(fc.array(tool, { maxLength: 2 })),
    tool_choice: mostly(
      fc.oneof(
        fc.constantFrom("none", "auto", "required"),
        fc.record({ type: fc.constant("function"), function: fc.record({ name: fc.constant("f") }) }),
      ),
      fc.oneof(
        anyScalar,
        fc.record({
          type: fc.constantFrom("function", "x"),
          function: fc.record({ name: fc.constantFrom("", "f") }),
        }),
      ),
    ),
    parallel_tool_calls: mostly(fc.boolean()),
    temperature: nullable(fc.double({ min: 0, max: 2, noNaN: true })),
    top_p: nullable(fc.double({ min: 0, max: 1, noNaN: true })),
    max_tokens: nullable(fc.integer({ min: 1, max: 10_000 })),
    max_completion_tokens: nullable(fc.integer({ min: 1, max: 10_000 })),
    n: nullable(fc.integer({ min: 1, max: 128 })),
    seed: nullable(fc.integer()),
    stop: mostly(
      fc.oneof(fc.constant(null), fc.string(), fc.array(fc.string(), { maxLength: 4 })),
      fc.array(fc.oneof(fc.string(), fc.integer()), { minLength: 1, maxLength: 6 }),
    ),
    logprobs: nullable(fc.boolean()),
    top_logprobs: nullable(fc.integer({ min: 0, max: 20 })),
    stream: nullable(fc.boolean()),
    stream_options: nullable(fc.record({ include_usage: mostly(fc.boolean()) }, { requiredKeys: [] })),
    response_format: json,
  },
  { requiredKeys: [] },
);

describe("acceptChatRequest (the fast path of parseChatRequest)", () => {
  it("accepts only what the schema accepts, and then exactly what the schema outputs", () => {
    let accepted = 0;
    let rejected = 0;
    fc.assert(
      fc.property(request, (input) => {
        // As the server sees bodies: fresh from JSON.parse.
        const body = JSON.parse(JSON.stringify(input)) as Record<string, unknown>;
        const fast = acceptChatRequest(structuredClone(body));
        const zod = ChatCompletionRequest.safeParse(body);
        if (fast === undefined) {
          rejected++;
          return;
        }
        accepted++;
        expect(zod.success).toBe(true);
        expect(fast).toStrictEqual(zod.data);
      }),
      { numRuns: 2000, seed: 10 },
    );
    // The generator reaches both paths.
    expect(accepted).toBeGreaterThan(100);
    expect(rejected).toBeGreaterThan(100);
  });

  it("takes the common shapes of agents' requests without zod", () => {
    const common = {
      model: "gpt-4o",
      messages: [
        { role: "system", content: "be brief" },
        { role: "user", content: [{ type: "text", text: "weather?" }] },
        {
          role: "assistant",
          content: null,
          tool_calls: [{ id: "c1", type: "function", function: { name: "weather", arguments: "{}" } }],
        },
        { role: "tool", tool_call_id: "c1", content: "sunny" },
      ],
      tools: [
        { type: "function", function: { name: "weather", parameters: { type: "object" }, strict: null } },
      ],
      tool_choice: "auto",
      temperature: 0.2,
      max_tokens: 100,
      stream: true,
      stream_options: { include_usage: true },
      user: "someone",
    };
    expect(acceptChatRequest(structuredClone(common))).toStrictEqual(common);
    // An OpenAI response message sent back with its empty fields: cleaned, then fast.
    const withEmpty = {
      ...common,
      messages: [...common.messages, { role: "assistant", content: "x", refusal: null }],
    };
    expect(parseChatRequest(withEmpty).messages.at(-1)).toStrictEqual({ role: "assistant", content: "x" });
  });

  it("leaves every wrong field to zod, which names it", () => {
    for (const [body, param] of [
      [{ model: "m", messages: [{ role: "robot", content: "x" }] }, "messages[0].role"],
      [{ model: "m", messages: [{ role: "user", content: "x" }], temperature: 3 }, "temperature"],
      [{ model: "m", messages: [{ role: "user", content: "x" }], n: 0 }, "n"],
      [{ model: "m", messages: [] }, "messages"],
      [{ messages: [{ role: "user", content: "x" }] }, "model"],
    ] as const) {
      expect(acceptChatRequest(structuredClone(body) as Record<string, unknown>)).toBeUndefined();
      expect(() => parseChatRequest(body)).toThrow(
        expect.objectContaining({
          status: 400,
          body: expect.objectContaining({ error: expect.objectContaining({ param }) }),
        }),
      );
    }
  });
});
