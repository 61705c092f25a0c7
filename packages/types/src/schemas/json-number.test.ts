import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeJsonNumber, encodeJsonNumber, JsonNumber } from "./json-number.js";

/** What a number becomes after encoding, a JSON text round trip, parsing and decoding. */
function roundTrip(value: number): number {
  const text = JSON.stringify({ value: encodeJsonNumber(value) });
  return decodeJsonNumber(JsonNumber.parse((JSON.parse(text) as { value: unknown }).value));
}

describe("JsonNumber", () => {
  it("writes finite numbers as they are and NaN / ±Infinity by name", () => {
    expect(
      [1.5, -3, 0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY].map(encodeJsonNumber),
    ).toEqual([1.5, -3, 0, "NaN", "Infinity", "-Infinity"]);
    expect(JSON.stringify([Number.NaN, Number.NEGATIVE_INFINITY, 2].map(encodeJsonNumber))).toBe(
      '["NaN","-Infinity",2]',
    );
  });

  it("brings every double back through a JSON text, NaN and the infinities included", () => {
    expect(Number.isNaN(roundTrip(Number.NaN))).toBe(true);
    expect(roundTrip(Number.POSITIVE_INFINITY)).toBe(Number.POSITIVE_INFINITY);
    expect(roundTrip(Number.NEGATIVE_INFINITY)).toBe(Number.NEGATIVE_INFINITY);
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (value) => {
        // JSON text has no -0: it comes back as 0, like any number JSON.parse reads.
        expect(roundTrip(value)).toBe(value === 0 ? 0 : value);
      }),
    );
  });

  it("refuses other strings and non-numbers", () => {
    for (const bad of ["nan", "inf", "+Infinity", "1", null, true, {}]) {
      expect(JsonNumber.safeParse(bad).success).toBe(false);
    }
  });
});
