import { fieldOf } from "@orbiter/test-support";
import { SeededRandom } from "@orbiter/types";
import { describe, expect, it } from "vitest";
import { rankByScore } from "./rank-by-score.js";
import { rouletteSelection } from "./roulette-selection.js";
import { tournamentSelection } from "./tournament-selection.js";
import { truncationSelection } from "./truncation-selection.js";

const population = ["a", "b", "c", "d", "e"];
const scores = [1, 5, 3, 5, Number.NEGATIVE_INFINITY];

describe("rankByScore", () => {
  it("orders best first, keeping ties (and −∞ ties) in index order", () => {
    expect(rankByScore(scores)).toEqual([1, 3, 2, 0, 4]);
    expect(rankByScore([Number.NEGATIVE_INFINITY, 0, Number.NEGATIVE_INFINITY])).toEqual([1, 0, 2]);
  });
});

describe("truncationSelection", () => {
  it("keeps the best by ratio (floor, at least one) or by count", () => {
    expect(truncationSelection(population, scores, { ratio: 0.5 })).toEqual(["b", "d"]);
    expect(truncationSelection(population, scores, { ratio: 0.1 })).toEqual(["b"]);
    expect(truncationSelection(population, scores, { count: 3 })).toEqual(["b", "d", "c"]);
    expect(truncationSelection(population, scores)).toEqual(["b", "d"]);
    expect(truncationSelection(population, scores, { ratio: 1 })).toHaveLength(5);
  });

  it("names bad arguments", () => {
    expect(fieldOf(() => truncationSelection(population, [1, 2], { count: 1 }))).toBe("scores");
    expect(fieldOf(() => truncationSelection(["a"], [Number.NaN], { count: 1 }))).toBe("scores[0]");
    expect(fieldOf(() => truncationSelection(population, scores, { count: 0 }))).toBe("count");
    expect(fieldOf(() => truncationSelection(population, scores, { ratio: 0 }))).toBe("ratio");
    expect(fieldOf(() => truncationSelection(population, scores, { ratio: 1.5 }))).toBe("ratio");
  });
});

describe("tournamentSelection", () => {
  it("always returns one of the best (b and d tie) with a large tournament, and is reproducible", () => {
    const winners = tournamentSelection(population, scores, {
      count: 20,
      size: 60,
      rng: new SeededRandom(1),
    });
    expect(new Set(winners)).toEqual(new Set(["b", "d"]));
    const a = tournamentSelection(population, scores, { count: 10, rng: new SeededRandom(4) });
    const b = tournamentSelection(population, scores, { count: 10, rng: new SeededRandom(4) });
    expect(a).toEqual(b);
    expect(a).toHaveLength(10);
  });

  it("favours better candidates: size 1 is uniform, size 3 prefers the best", () => {
    const big = Array.from({ length: 10 }, (_, index) => index);
    const bigScores = big.map((index) => index);
    const mean = (picks: number[]) => picks.reduce((sum, value) => sum + value, 0) / picks.length;
    const uniform = tournamentSelection(big, bigScores, { count: 4000, size: 1, rng: new SeededRandom(2) });
    const greedy = tournamentSelection(big, bigScores, { count: 4000, size: 3, rng: new SeededRandom(2) });
    expect(mean(uniform)).toBeCloseTo(4.5, 0);
    // E[max of 3 uniform draws from 0..9] = 6.975
    expect(mean(greedy)).toBeGreaterThan(6.7);
    expect(mean(greedy)).toBeLessThan(7.25);
    expect(
      fieldOf(() => tournamentSelection(big, bigScores, { count: 1, size: 0, rng: new SeededRandom(1) })),
    ).toBe("size");
  });
});

describe("rouletteSelection", () => {
  it("picks in proportion to score minus the lowest (plus a small floor), never a failed candidate", () => {
    const picks = rouletteSelection(["low", "mid", "high", "failed"], [1, 2, 4, Number.NEGATIVE_INFINITY], {
      count: 30000,
      rng: new SeededRandom(9),
    });
    const share = (name: string) => picks.filter((pick) => pick === name).length / picks.length;
    // weights 0.003, 1.003, 3.003 out of 4.009
    expect(share("failed")).toBe(0);
    expect(share("low")).toBeLessThan(0.005);
    expect(share("mid")).toBeCloseTo(1.003 / 4.009, 1);
    expect(share("high")).toBeCloseTo(3.003 / 4.009, 1);
  });

  it("picks uniformly among equal scores and among all-failed populations", () => {
    for (const equal of [
      [2, 2],
      [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY],
    ]) {
      const picks = rouletteSelection(["x", "y"], equal, { count: 4000, rng: new SeededRandom(3) });
      const share = picks.filter((pick) => pick === "x").length / picks.length;
      expect(share).toBeGreaterThan(0.45);
      expect(share).toBeLessThan(0.55);
    }
    expect(
      rouletteSelection(["x", "y"], [0, Number.POSITIVE_INFINITY], { count: 5, rng: new SeededRandom(1) }),
    ).toEqual(["y", "y", "y", "y", "y"]);
  });
});
