import { isWellFormed } from "@orbiter/types";
import fc from "fast-check";
import type { DatasetMessage, DatasetToolCall } from "../formats/dataset-message.js";
import type { ExtraInfoValue, VerlRow } from "../formats/verl-row.js";

/** Strings that break naive writers: line-break look-alikes, NUL, BOM, bidi controls, ZWJ emoji, astral planes. */
const HOSTILE = [
  "",
  "\u2028\u2029\u0085",
  "a\u0000b",
  "\r\n\r",
  "\uFEFFbom",
  "\u202Eevil\u202C",
  "👩‍👩‍👧‍👦",
  "e\u0301\u0301",
  "𝕳𝖊𝖑𝖑𝖔 \u{10FFFF}",
  '"quoted" \\ back\\slash',
  '{"not":"json"',
  "línea\tcon\ttabs",
];

/** Well-formed text of any code point, with hostile strings mixed in. */
export const hostileText: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: "binary", maxLength: 24 }).filter(isWellFormed),
  fc.string({ unit: "grapheme", maxLength: 12 }),
  fc.constantFrom(...HOSTILE),
);

const nonEmptyText = hostileText.filter((text) => text.length > 0);

/** A tool call whose arguments are a JSON string of any JSON value. */
export const toolCall: fc.Arbitrary<DatasetToolCall> = fc.record({
  id: hostileText,
  type: fc.constant("function" as const),
  function: fc.record({
    name: nonEmptyText,
    arguments: fc.jsonValue({ maxDepth: 2 }).map((value) => JSON.stringify(value)),
  }),
});

/** A chat message of any role; assistants may call tools, tool results carry their call id. */
export const datasetMessage: fc.Arbitrary<DatasetMessage> = fc.oneof(
  fc.record({
    role: fc.constantFrom("system" as const, "user" as const, "developer" as const),
    content: hostileText,
  }),
  fc.record(
    {
      role: fc.constant("assistant" as const),
      content: fc.option(hostileText, { nil: null }),
      tool_calls: fc.array(toolCall, { minLength: 1, maxLength: 3 }),
    },
    { requiredKeys: ["role", "content"] },
  ),
  fc.record({ role: fc.constant("tool" as const), content: hostileText, tool_call_id: hostileText }),
);

/** A tool definition with a JSON schema and hostile descriptions. */
export const toolDefinition = fc.record({
  type: fc.constant("function" as const),
  function: fc.record(
    {
      name: nonEmptyText,
      description: hostileText,
      parameters: fc.constant({ type: "object", properties: { q: { type: "string" } } }),
    },
    { requiredKeys: ["name"] },
  ),
});

const extraInfoKind = fc.constantFrom("string", "int", "double", "boolean");

function extraValue(kind: string): fc.Arbitrary<ExtraInfoValue> {
  const base: fc.Arbitrary<ExtraInfoValue> =
    kind === "string"
      ? hostileText
      : kind === "int"
        ? fc.maxSafeInteger()
        : kind === "double"
          ? fc.double({ noNaN: true, noDefaultInfinity: true })
          : fc.boolean();
  return fc.option(base, { nil: null, freq: 5 });
}

const extraKey = fc
  .stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,8}$/)
  .filter((key) => !["split", "index"].includes(key));

/** Verl rows sharing one set of extra_info fields, each field of one type (nullable). */
export const verlRows: fc.Arbitrary<VerlRow[]> = fc
  .uniqueArray(fc.tuple(extraKey, extraInfoKind), { maxLength: 4, selector: ([key]) => key })
  .chain((fields) =>
    fc
      .array(
        fc.record({
          data_source: nonEmptyText,
          prompt: fc.array(
            fc.record({
              role: fc.constantFrom(
                "system" as const,
                "user" as const,
                "assistant" as const,
                "tool" as const,
              ),
              content: hostileText,
            }),
            { minLength: 1, maxLength: 4 },
          ),
          ability: hostileText,
          reward_model: fc.record({ style: fc.constant("rule" as const), ground_truth: hostileText }),
          extra: fc.tuple(hostileText, ...fields.map(([, kind]) => extraValue(kind))),
        }),
        { minLength: 1, maxLength: 12 },
      )
      .map((rows) =>
        rows.map(({ extra, ...row }, index) => {
          const [split, ...values] = extra;
          const extra_info: Record<string, ExtraInfoValue> = { split, index };
          fields.forEach(([key], position) => {
            extra_info[key] = values[position] as ExtraInfoValue;
          });
          return { ...row, extra_info } as VerlRow;
        }),
      ),
  );
