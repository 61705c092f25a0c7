import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { itemToJson, itemToJsonPreservingSign, jsonValueToText, numberToJson } from "./item-serializer.js";
import { validateItem } from "./item-validator.js";

const text = fc.string({
  unit: fc.oneof(fc.string({ unit: "binary", maxLength: 1 }), fc.constantFrom("\uD800", '"')),
});
const number = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(-0, 0, 5e-324, 1e21),
);
const input = fc.record(
  {
    id: text.filter((id) => id.length > 0),
    timestamp: fc.oneof(fc.nat(), fc.constant(-0)),
    state: text,
    action: text,
    reward: number,
    metadata: fc.dictionary(text, fc.oneof(number, text, fc.array(number, { maxLength: 3 })), { maxKeys: 3 }),
    taskId: text,
    step: fc.oneof(fc.nat(), fc.constant(-0)),
    messages: fc.array(fc.record({ role: fc.constant("user" as const), content: text }), { maxLength: 2 }),
  },
  { requiredKeys: ["state", "action", "reward"] },
);

describe("item serializer", () => {
  it("writes the same text natively and field by field, and reads back the same item", () => {
    fc.assert(
      fc.property(input, (raw) => {
        const item = validateItem(raw, { what: "trajectory item" });
        const text = itemToJson(item);
        const back = validateItem(JSON.parse(text), { what: "trajectory item" });
        expect(back).toStrictEqual(item);
        // Without -0 the native path must print exactly what the careful path prints.
        const careful = itemToJsonPreservingSign(item);
        if (!careful.includes("-0,") && !careful.includes("-0}") && !careful.includes("-0]")) {
          expect(text).toBe(careful);
        }
        expect(JSON.parse(careful)).toStrictEqual(JSON.parse(text));
      }),
      { numRuns: 1000, seed: 11 },
    );
  });

  it("prints numbers exactly", () => {
    expect([-0, 0, 5e-324, 1.7976931348623157e308, 1e21, -1.5].map(numberToJson)).toEqual([
      "-0",
      "0",
      "5e-324",
      "1.7976931348623157e+308",
      "1e+21",
      "-1.5",
    ]);
    expect(jsonValueToText({ a: [-0, { b: -0 }], c: "x", d: null, e: true })).toBe(
      '{"a":[-0,{"b":-0}],"c":"x","d":null,"e":true}',
    );
  });
});
