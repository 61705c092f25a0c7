import { InvalidArgumentError, SeededRandom } from "@orbiter/types";
import { describe, expect, it } from "vitest";
import { exactSimilarPairs } from "../internal/exact-pairs.js";
import { nearDuplicateCorpus } from "../internal/near-duplicate-corpus.js";
import { NearDuplicateIndex } from "./near-duplicate-index.js";
import { exactShingleJaccard } from "./shingles.js";

const texts = nearDuplicateCorpus(900, { seed: 7, editRate: [0.002, 0.03] }).texts;
let pairs: Array<[number, number, number]> | undefined;
/** Exact all-pairs comparison at 0.8, computed once for every test that needs it. */
const groundTruth = () => {
  pairs ??= exactSimilarPairs(texts, 0.8, 5);
  return pairs;
};

const fox = "the quick brown fox jumps over the lazy dog near the river bank";

describe("NearDuplicateIndex", () => {
  it("finds a near-duplicate and reports its exact similarity", () => {
    const index = new NearDuplicateIndex({ threshold: 0.8 });
    expect(index.addIfNew(fox)).toBeUndefined();
    expect(index.addIfNew("completely different words about compilers and types")).toBeUndefined();
    const variant = `${fox}!`;
    const match = index.addIfNew(variant);
    expect(match).toEqual({ index: 0, similarity: exactShingleJaccard(fox, variant, 5) });
    expect(index.size).toBe(2);
  });

  it("findAll lists every held text at or above the threshold", () => {
    for (const threshold of [0, 0.8, 1]) {
      const index = new NearDuplicateIndex({ threshold });
      const held = [fox, `${fox}!`, "unrelated text about compilers and type systems", fox];
      for (const text of held) index.add(text);
      const expected = held
        .map((text, i) => ({ index: i, similarity: threshold === 1 ? 1 : exactShingleJaccard(text, fox, 5) }))
        .filter((match) => (threshold === 1 ? held[match.index] === fox : match.similarity >= threshold));
      expect(index.findAll(fox)).toEqual(expected);
    }
  });

  it("leaves texts below the threshold alone", () => {
    const index = new NearDuplicateIndex({ threshold: 0.95 });
    index.add(fox);
    const edited = fox.replace("quick", "quack").replace("lazy", "lousy");
    expect(exactShingleJaccard(fox, edited, 5)).toBeLessThan(0.95);
    expect(index.find(edited)).toBeUndefined();
  });

  it("threshold 1 matches equal strings only", () => {
    const index = new NearDuplicateIndex({ threshold: 1 });
    index.add("aaaaa");
    expect(index.find("aaaaaa")).toBeUndefined(); // same shingle set {aaaaa}, but not equal
    expect(index.find("aaaaa")).toEqual({ index: 0, similarity: 1 });
    expect(index.lsh).toBeUndefined();
  });

  it("threshold 0 keeps only the first text", () => {
    const index = new NearDuplicateIndex({ threshold: 0 });
    expect(index.addIfNew("abc")).toBeUndefined();
    expect(index.addIfNew("xyz")).toEqual({ index: 0, similarity: 0 });
  });

  it("treats empty texts as duplicates of each other only", () => {
    const index = new NearDuplicateIndex({ threshold: 0.9 });
    expect(index.addIfNew("")).toBeUndefined();
    expect(index.addIfNew("")).toEqual({ index: 0, similarity: 1 });
    expect(index.addIfNew("abcdefgh")).toBeUndefined();
  });

  it.each(["one-permutation", "independent"] as const)(
    "%s hashing: LSH finds ≥ 95% of the pairs exact all-pairs comparison finds",
    (hashing) => {
      for (const threshold of [0.8, 0.9]) {
        const truth = groundTruth().filter(([, , similarity]) => similarity >= threshold);
        expect(truth.length).toBeGreaterThan(60);
        // Candidacy is a function of the two texts alone, so a two-text index measures each pair exactly.
        let found = 0;
        for (const [i, j] of truth) {
          const index = new NearDuplicateIndex({ threshold, seed: 3, hashing });
          index.add(texts[i] as string);
          if (index.find(texts[j] as string)) found++;
        }
        expect(found / truth.length).toBeGreaterThanOrEqual(0.95);
      }
    },
  );

  it("holds texts whose bands outnumber its initial tables (an explicit wide LSH shape)", () => {
    const index = new NearDuplicateIndex({ threshold: 0.5, lsh: { bands: 20_000, rows: 1 } });
    const texts = ["alpha beta gamma delta", "one two three four five", "red green blue cyan", "xyz 123 !?"];
    for (const text of texts) expect(index.addIfNew(text)).toBeUndefined();
    expect(texts.map((text) => index.find(text)?.index)).toEqual([0, 1, 2, 3]);
  });

  it("rejects bad options naming the field", () => {
    expect(() => new NearDuplicateIndex({ threshold: 1.5 })).toThrow(InvalidArgumentError);
    expect(() => new NearDuplicateIndex({ threshold: -0.1 })).toThrow(
      expect.objectContaining({ field: "threshold" }),
    );
    expect(() => new NearDuplicateIndex({ threshold: 0.5, shingleSize: 0 })).toThrow(
      expect.objectContaining({ field: "shingleSize" }),
    );
    expect(() => new NearDuplicateIndex({ threshold: 0.5, hashing: "simhash" as never })).toThrow(
      expect.objectContaining({ field: "hashing" }),
    );
    expect(() => new NearDuplicateIndex({ threshold: 0.5, lsh: { bands: 0, rows: 2 } })).toThrow(
      expect.objectContaining({ field: "lsh.bands" }),
    );
  });

  it("is deterministic for a seed", () => {
    const random = new SeededRandom(1);
    const words = Array.from({ length: 300 }, () =>
      Array.from({ length: 30 }, () => String.fromCharCode(97 + random.integer(0, 3))).join(""),
    );
    const run = (hashing: "one-permutation" | "independent") => {
      const index = new NearDuplicateIndex({ threshold: 0.6, shingleSize: 3, seed: 9, hashing });
      return words.map((text) => index.addIfNew(text)?.index ?? -1);
    };
    expect(run("one-permutation")).toEqual(run("one-permutation"));
    expect(run("independent")).toEqual(run("independent"));
  });
});
