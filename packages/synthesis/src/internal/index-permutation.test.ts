import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { IndexPermutation } from "./index-permutation.js";

describe("IndexPermutation", () => {
  it("property: a bijection of [0, size) for any size and seed", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3000 }), fc.integer(), (size, seed) => {
        const permutation = new IndexPermutation(size, seed);
        const seen = new Uint8Array(size);
        for (let i = 0; i < size; i++) {
          const image = permutation.at(i);
          expect(Number.isInteger(image) && image >= 0 && image < size).toBe(true);
          seen[image] = (seen[image] as number) + 1;
        }
        expect(seen.every((count) => count === 1)).toBe(true);
      }),
      { seed: 5, numRuns: 60 },
    );
  });

  it("shuffles: different seeds give different orders, and few fixed points", () => {
    const a = new IndexPermutation(1000, 1);
    const b = new IndexPermutation(1000, 2);
    let same = 0;
    let fixed = 0;
    for (let i = 0; i < 1000; i++) {
      if (a.at(i) === b.at(i)) same++;
      if (a.at(i) === i) fixed++;
    }
    expect(same).toBeLessThan(20);
    expect(fixed).toBeLessThan(20);
  });

  it("works on spaces far too large to store", () => {
    const size = 2 ** 50 + 12345;
    const permutation = new IndexPermutation(size, 9);
    const images = new Set<number>();
    for (let i = 0; i < 1000; i++) {
      const image = permutation.at(i);
      expect(image).toBeLessThan(size);
      images.add(image);
    }
    expect(images.size).toBe(1000);
  });

  it("rejects sizes it cannot permute", () => {
    expect(() => new IndexPermutation(0, 1)).toThrow(expect.objectContaining({ field: "size" }));
    expect(() => new IndexPermutation(2 ** 53, 1)).toThrow(expect.objectContaining({ field: "size" }));
  });
});
