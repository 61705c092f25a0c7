import { describe, expect, it } from "vitest";
import { filterByScore } from "./filter-by-score.js";

describe("filterByScore", () => {
  const data = [
    { id: "a", score: 0.9 },
    { id: "b", score: 0.7 },
    { id: "c", score: 0.69 },
    { id: "d" },
    { id: "e", score: -1 },
  ];

  it("keeps scores at or above the minimum, drops unscored samples (known answer)", () => {
    expect(filterByScore(data, { minScore: 0.7 }).map((s) => s.id)).toEqual(["a", "b"]);
    expect(filterByScore(data, { minScore: -5 }).map((s) => s.id)).toEqual(["a", "b", "c", "e"]);
    expect(filterByScore([], { minScore: 0 })).toEqual([]);
  });

  it("rejects NaN scores and bad options naming the field", () => {
    expect(() => filterByScore([{ score: 1 }, { score: Number.NaN }], { minScore: 0.5 })).toThrow(
      expect.objectContaining({ field: "data[1].score" }),
    );
    expect(() => filterByScore(data, { minScore: Number.NaN })).toThrow(
      expect.objectContaining({ field: "minScore" }),
    );
    expect(() => filterByScore(data, {} as never)).toThrow(expect.objectContaining({ field: "minScore" }));
    expect(() => filterByScore(data, { minScore: 0, min: 1 } as never)).toThrow(
      expect.objectContaining({ field: "min" }),
    );
  });
});
