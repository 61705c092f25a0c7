import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../errors/error-kinds.js";
import { deriveSeed, SeededRandom } from "./seeded-random.js";

describe("SeededRandom", () => {
  it("is reproducible for a seed and differs between seeds", () => {
    const draw = (seed: number) => {
      const rng = new SeededRandom(seed);
      return [rng.next(), rng.integer(0, 100), rng.normal(), rng.uniform(-1, 1)];
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
  });

  it("gives unrelated first draws for neighbouring seeds", () => {
    const first = Array.from({ length: 2000 }, (_, seed) => new SeededRandom(seed).next());
    const mean = first.reduce((a, b) => a + b, 0) / first.length;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
    // Correlation between the seed and its first draw, and between consecutive seeds' first draws.
    const correlation = (xs: number[], ys: number[]) => {
      const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
      const my = ys.reduce((a, b) => a + b, 0) / ys.length;
      let sxy = 0;
      let sxx = 0;
      let syy = 0;
      for (let i = 0; i < xs.length; i++) {
        sxy += ((xs[i] as number) - mx) * ((ys[i] as number) - my);
        sxx += ((xs[i] as number) - mx) ** 2;
        syy += ((ys[i] as number) - my) ** 2;
      }
      return sxy / Math.sqrt(sxx * syy);
    };
    const seeds = first.map((_, seed) => seed);
    expect(Math.abs(correlation(seeds, first))).toBeLessThan(0.1);
    expect(Math.abs(correlation(first.slice(1), first.slice(0, -1)))).toBeLessThan(0.1);
    expect(new Set(first.map((x) => Math.floor(x * 10))).size).toBe(10);
  });

  it("restores its exact state, including the spare normal deviate", () => {
    const rng = new SeededRandom(3);
    rng.normal();
    const saved = JSON.parse(JSON.stringify(rng.getState()));
    const expected = [rng.normal(), rng.next(), rng.integer(1, 6)];
    const restored = SeededRandom.fromState(saved);
    expect([restored.normal(), restored.next(), restored.integer(1, 6)]).toEqual(expected);
  });

  it("keeps draws inside their ranges", () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: -50, max: 50 }), fc.nat(100), (seed, min, width) => {
        const rng = new SeededRandom(seed);
        const value = rng.integer(min, min + width);
        const float = rng.next();
        return Number.isInteger(value) && value >= min && value <= min + width && float >= 0 && float < 1;
      }),
    );
  });

  it("draws normals with the right mean and spread", () => {
    const rng = new SeededRandom(11);
    const values = Array.from({ length: 20_000 }, () => rng.normal(2, 3));
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1));
    expect(mean).toBeCloseTo(2, 1);
    expect(std).toBeGreaterThan(2.9);
    expect(std).toBeLessThan(3.1);
  });

  it("shuffles to a permutation without touching the input; samples distinct items", () => {
    const rng = new SeededRandom(5);
    const input = Array.from({ length: 50 }, (_, i) => i);
    const shuffled = rng.shuffle(input);
    expect(input).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect([...shuffled].sort((a, b) => a - b)).toEqual(input);
    expect(shuffled).not.toEqual(input);
    const picked = rng.sample(input, 10);
    expect(new Set(picked).size).toBe(10);
    expect(input).toContain(rng.choice(input));
  });

  it("picks weighted indices in proportion", () => {
    const rng = new SeededRandom(9);
    const counts = [0, 0, 0];
    for (let i = 0; i < 30_000; i++) counts[rng.weightedIndex([1, 0, 3])]! += 1;
    expect(counts[1]).toBe(0);
    expect(counts[2]! / counts[0]!).toBeGreaterThan(2.7);
    expect(counts[2]! / counts[0]!).toBeLessThan(3.3);
  });

  it("never picks a zero weight, even when rounding leaves the largest draw past the sum", () => {
    const rng = new SeededRandom(9);
    rng.next = () => 1 - 2 ** -53;
    // Subtracting these one by one from (1 - 2^-53) * sum leaves a small positive remainder.
    const weights = [0.24041696292420833, 0.04125744745890536, 0.674120617839655, 0.962798036819206];
    expect(rng.weightedIndex([...weights, 0.5805809266350597, 0])).toBe(4);
  });

  it("rejects bad arguments with InvalidArgumentError", () => {
    expect(() => new SeededRandom(Number.NaN)).toThrow(InvalidArgumentError);
    expect(() => new SeededRandom(1).choice([])).toThrow(InvalidArgumentError);
    expect(() => new SeededRandom(1).integer(5, 1)).toThrow(InvalidArgumentError);
    expect(() => new SeededRandom(1).integer(0.5, 1)).toThrow(expect.objectContaining({ field: "min" }));
    expect(() => new SeededRandom(1).integer(0, 1.5)).toThrow(expect.objectContaining({ field: "max" }));
    expect(() => new SeededRandom(1).weightedIndex([0, 0])).toThrow(InvalidArgumentError);
    expect(() =>
      SeededRandom.fromState({ algorithm: "xoroshiro128plus", words: [1], spareNormal: null }),
    ).toThrow(InvalidArgumentError);
  });

  it("derives distinct, stable seeds from names", () => {
    expect(deriveSeed(1, "rollout", 3)).toBe(deriveSeed(1, "rollout", 3));
    expect(deriveSeed(1, "rollout", 3)).not.toBe(deriveSeed(1, "rollout", 4));
    expect(deriveSeed("ab", "c")).not.toBe(deriveSeed("a", "bc"));
  });
});
