import { describe, expect, it } from "vitest";
import { resolveAdvantageScale, resumedAdvantageScale } from "./advantage-scale.js";

describe("advantage scaling", () => {
  it('"auto" divides by the spread with a fresh Adam and keeps the raw size with carried moments', () => {
    expect(resolveAdvantageScale("auto", false)).toBe(true);
    expect(resolveAdvantageScale("auto", true)).toBe(false);
    // An explicit choice is kept either way.
    expect(resolveAdvantageScale(true, true)).toBe(true);
    expect(resolveAdvantageScale(false, false)).toBe(false);
  });

  it('a resumed "auto" keeps what the run started with, although its Adam resumes from saved moments', () => {
    expect(resumedAdvantageScale("auto", true)).toBe(true);
    expect(resumedAdvantageScale("auto", false)).toBe(false);
    // A checkpoint from before the record (and "auto"): those trainers divided and whitened unless told otherwise.
    expect(resumedAdvantageScale("auto", undefined)).toBe(true);
    // One saved before training started recorded "auto": it stays, to be resolved as the run starts.
    expect(resumedAdvantageScale("auto", "auto")).toBe("auto");
    expect(resumedAdvantageScale(false, true)).toBe(false);
  });
});
