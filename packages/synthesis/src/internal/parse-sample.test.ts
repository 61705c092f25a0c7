import { InvalidArgumentError, parseWith, Sample } from "@orbiter/types";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseSample } from "./parse-sample.js";

const context = { what: "sample", path: "data[0]" };
const id = () => "generated";

describe("parseSample", () => {
  it("fills the id and metadata, copying the input", () => {
    const input = { input: "a", output: "b", metadata: { k: [1, { x: null }] } };
    const sample = parseSample(input, id, context);
    expect(sample).toEqual({ id: "generated", input: "a", output: "b", metadata: { k: [1, { x: null }] } });
    expect(sample).not.toBe(input);
    expect(sample.metadata).not.toBe(input.metadata);
    expect(parseSample({ id: "own", input: "", output: "", score: 0.5 }, id, context)).toEqual({
      id: "own",
      input: "",
      output: "",
      score: 0.5,
      metadata: {},
    });
  });

  it("rejects what the schema rejects, naming the field", () => {
    const cases: Array<[unknown, string]> = [
      [{ input: 1, output: "" }, "data[0].input"],
      [{ input: "", output: "", score: Number.NaN }, "data[0].score"],
      [{ input: "", output: "", metadata: { bad: Number.POSITIVE_INFINITY } }, "data[0].metadata.bad"],
      [{ input: "", output: "", extra: 1 }, "data[0].extra"],
      [{ id: "", input: "", output: "" }, "data[0].id"],
    ];
    for (const [value, field] of cases) {
      expect(() => parseSample(value, id, context)).toThrow(InvalidArgumentError);
      expect(() => parseSample(value, id, context)).toThrow(expect.objectContaining({ field }));
    }
    expect(() => parseSample("nope", id, context)).toThrow(InvalidArgumentError);
    expect(() => parseSample({ input: "", output: "" }, () => "", context)).toThrow(
      expect.objectContaining({ field: "data[0].id" }),
    );
  });

  it("property: agrees with the zod schema", () => {
    const value = fc.oneof(fc.string(), fc.double(), fc.boolean(), fc.constant(null), fc.constant(undefined));
    const arbitrary = fc.record(
      {
        id: fc.oneof(fc.string(), fc.constant(undefined)),
        input: value,
        output: value,
        score: fc.oneof(fc.double(), fc.constant(undefined)),
        metadata: fc.oneof(
          fc.constant(undefined),
          fc.dictionary(fc.string(), fc.jsonValue()),
          fc.constant([]),
        ),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(arbitrary, (raw) => {
        const withId = { ...raw, id: raw.id ?? "generated" };
        let expected: unknown;
        try {
          expected = parseWith(Sample, withId, context);
        } catch (error) {
          expected = error instanceof InvalidArgumentError ? "error" : error;
        }
        let actual: unknown;
        try {
          actual = parseSample(raw, id, context);
        } catch (error) {
          actual = error instanceof InvalidArgumentError ? "error" : error;
        }
        expect(actual).toEqual(expected);
      }),
      { seed: 21, numRuns: 500 },
    );
  });
});
