import { describe, expect, it } from "vitest";
import { isWellFormed, toWellFormed } from "./well-formed-text.js";

describe("well-formed text", () => {
  it("accepts text with paired surrogates and refuses a lone one at either end or out of order", () => {
    expect(["", "plain", "emoji \u{1F600} ok", "\uD83D\uDE00"].map(isWellFormed)).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect(["\uD800", "a\uD800", "\uDC00b", "\uDC00\uD800", "x\uD83Dy"].map(isWellFormed)).toEqual([
      false,
      false,
      false,
      false,
      false,
    ]);
  });

  it("replaces each lone surrogate with U+FFFD, as UTF-8 would store it, and leaves other text as it is", () => {
    expect(toWellFormed("a\uD800b")).toBe("a\uFFFDb");
    expect(toWellFormed("\uDC00\uD800")).toBe("\uFFFD\uFFFD");
    expect(toWellFormed("\u{1F600}")).toBe("\u{1F600}");
    for (const text of ["a\uD800b", "\uDC00x\uD83D", "fine"]) {
      expect(Buffer.from(toWellFormed(text), "utf8").toString("utf8")).toBe(toWellFormed(text));
      expect(isWellFormed(toWellFormed(text))).toBe(true);
    }
  });
});
