import { describe, expect, it } from "vitest";
import { formatDuration, formatPercent } from "./demo-context.js";

describe("formatDuration", () => {
  it("picks the unit after rounding, so no unit reads 1000 ms, 60.0 s or 60 s", () => {
    expect(formatDuration(850)).toBe("850 ms");
    expect(formatDuration(999.7)).toBe("1.0 s");
    expect(formatDuration(12_340)).toBe("12.3 s");
    expect(formatDuration(59_970)).toBe("1 min 0 s");
    expect(formatDuration(119_700)).toBe("2 min 0 s");
    expect(formatDuration(161_000)).toBe("2 min 41 s");
  });
});

describe("formatPercent", () => {
  it("shows one decimal", () => {
    expect(formatPercent(0.4059)).toBe("40.6%");
  });
});
