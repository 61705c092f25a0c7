import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InvalidArgumentError } from "@orbiter/types";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  datasetMessage,
  hostileText,
  toolCall,
  toolDefinition,
  verlRows,
} from "../__fixtures__/arbitraries.js";
import type { DatasetFormat } from "../formats/dataset-format.js";
import type { DatasetMessage } from "../formats/dataset-message.js";
import { readJsonlDataset, writeJsonlDataset } from "./jsonl-dataset.js";

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "handoff-jsonl-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const messages = fc.array(datasetMessage, { minLength: 1, maxLength: 5 });
const tools = fc.option(fc.array(toolDefinition, { minLength: 1, maxLength: 2 }), { nil: undefined });
const assistant: fc.Arbitrary<DatasetMessage> = fc.record(
  {
    role: fc.constant("assistant" as const),
    content: hostileText,
    tool_calls: fc.array(toolCall, { minLength: 1, maxLength: 2 }),
  },
  { requiredKeys: ["role", "content"] },
);
const withTools = <T extends object>(row: T, list: unknown[] | undefined): T =>
  list === undefined ? row : { ...row, tools: list };

const ROWS: Record<DatasetFormat, fc.Arbitrary<unknown[]>> = {
  verl: verlRows,
  "trl-conversational": fc.array(
    fc.tuple(messages, tools).map(([list, toolList]) => withTools({ messages: list }, toolList)),
    { minLength: 1, maxLength: 6 },
  ),
  "trl-prompt-completion": fc.array(
    fc.oneof(
      fc.record({ prompt: hostileText, completion: hostileText }),
      fc.record({ prompt: messages, completion: fc.array(assistant, { minLength: 1, maxLength: 2 }) }),
    ),
    { minLength: 1, maxLength: 6 },
  ),
  "trl-preference": fc.array(
    fc.oneof(
      fc.record({ prompt: hostileText, chosen: hostileText, rejected: hostileText }),
      fc
        .tuple(messages, assistant, assistant, tools)
        .map(([prompt, chosen, rejected, toolList]) =>
          withTools({ prompt, chosen: [chosen], rejected: [rejected] }, toolList),
        ),
    ),
    { minLength: 1, maxLength: 6 },
  ),
  "openai-chat": fc.array(
    fc
      .tuple(
        messages,
        tools,
        fc.array(fc.constantFrom(0 as const, 1 as const), { minLength: 5, maxLength: 5 }),
      )
      .map(([list, toolList, weights]) =>
        withTools(
          {
            messages: list.map((message, i) =>
              message.role === "assistant" ? { ...message, weight: weights[i] } : message,
            ),
          },
          toolList,
        ),
      ),
    { minLength: 1, maxLength: 6 },
  ),
  "openai-preference": fc.array(
    fc.tuple(messages, tools, assistant, assistant).map(([list, toolList, preferred, other]) => ({
      input: withTools({ messages: list }, toolList),
      preferred_output: [preferred],
      non_preferred_output: [other],
    })),
    { minLength: 1, maxLength: 6 },
  ),
};

describe("JSONL datasets", () => {
  it.each(Object.keys(ROWS) as DatasetFormat[])(
    "%s round-trips hostile Unicode and tool calls exactly",
    async (format) => {
      let run = 0;
      await fc.assert(
        fc.asyncProperty(ROWS[format], async (rows) => {
          const path = join(dir, `${format}-${run++}.jsonl`);
          const summary = await writeJsonlDataset(path, rows as never, { format });
          expect(summary.rows).toBe(rows.length);
          const text = await readFile(path, "utf8");
          // one row per line, whatever line-break look-alikes the strings hold
          expect(text.split("\n")).toHaveLength(rows.length + 1);
          expect(text).not.toMatch(/[\u2028\u2029\u0085\r]/);
          expect(await readJsonlDataset(path, { format })).toEqual(rows);
        }),
        { numRuns: 40, seed: 7 },
      );
    },
  );

  it("keeps tool-call arguments as JSON strings", async () => {
    const path = join(dir, "tools.jsonl");
    const call = {
      id: "c1",
      type: "function" as const,
      function: { name: "calc", arguments: '{"x":"2+2"}' },
    };
    await writeJsonlDataset(
      path,
      [
        {
          messages: [
            { role: "user", content: "2+2?" },
            { role: "assistant", content: null, tool_calls: [call] },
          ],
        },
      ],
      { format: "openai-chat" },
    );
    expect(JSON.parse(await readFile(path, "utf8")).messages[1].tool_calls[0].function.arguments).toBe(
      '{"x":"2+2"}',
    );
  });

  it("refuses bad rows with a typed error naming the field, leaving no file", async () => {
    const bad = join(dir, "bad");
    await mkdir(bad, { recursive: true });
    const user = { role: "user", content: "hi" };
    const cases: Array<[DatasetFormat, unknown[], string]> = [
      ["trl-prompt-completion", [{ completion: "x" }], "rows[0].prompt"],
      [
        "trl-prompt-completion",
        [{ prompt: "x", completion: [{ role: "assistant", content: "y" }] }],
        "rows[0].completion",
      ],
      ["trl-preference", [{ prompt: [], chosen: [user], rejected: [user] }], "rows[0].prompt"],
      ["trl-conversational", [{ messages: [user] }, { messages: [] }], "rows[1].messages"],
      [
        "openai-chat",
        [
          {
            messages: [
              user,
              {
                role: "assistant",
                content: null,
                tool_calls: [{ id: "c", type: "function", function: { name: "f", arguments: "{oops" } }],
              },
            ],
          },
        ],
        "rows[0].messages[1].tool_calls[0].function.arguments",
      ],
      ["openai-chat", [{ messages: [{ ...user, weight: 1 }] }], "rows[0].messages[0].weight"],
      [
        "openai-preference",
        [
          {
            input: { messages: [user] },
            preferred_output: [user],
            non_preferred_output: [{ role: "assistant", content: "b" }],
          },
        ],
        "rows[0].preferred_output[0].role",
      ],
      ["openai-chat", [{ messages: [{ role: "user", content: "\uDC00" }] }], "rows[0].messages[0].content"],
      [
        "verl",
        [
          {
            data_source: "d",
            prompt: [user],
            ability: "",
            reward_model: { style: "rule", ground_truth: 1 },
            extra_info: { split: "t", index: 0 },
          },
        ],
        "rows[0].reward_model.ground_truth",
      ],
    ];
    for (const [format, rows, field] of cases) {
      const error = await writeJsonlDataset(join(bad, "out.jsonl"), rows as never, { format }).catch(
        (caught: unknown) => caught,
      );
      expect(InvalidArgumentError.isInstance(error), `${field}: ${String(error)}`).toBe(true);
      expect((error as InvalidArgumentError).field).toBe(field);
      expect(await readdir(bad)).toEqual([]);
    }
    const unknown = await writeJsonlDataset(join(bad, "out.jsonl"), [], { format: "alpaca" as never }).catch(
      (caught: unknown) => caught,
    );
    expect((unknown as InvalidArgumentError).field).toBe("options.format");
    expect(await readdir(bad)).toEqual([]);
  });

  it("names the line of a bad row when reading", async () => {
    const path = join(dir, "read-bad.jsonl");
    await writeFile(
      path,
      `${JSON.stringify({ messages: [{ role: "user", content: "ok" }] })}\n\n{"messages": [}\n`,
    );
    const error = await readJsonlDataset(path, { format: "trl-conversational" }).catch(
      (caught: unknown) => caught,
    );
    expect((error as InvalidArgumentError).line).toBe(3);
    expect((error as InvalidArgumentError).field).toBe("rows[1]");
    await writeFile(path, `${JSON.stringify({ messages: [{ role: "robot", content: "ok" }] })}\n`);
    const invalid = await readJsonlDataset(path, { format: "trl-conversational" }).catch(
      (caught: unknown) => caught,
    );
    expect(invalid).toMatchObject({ line: 1, field: "rows[0].messages[0].role" });
  });
});
