import { describe, expect, it } from "vitest";
import { nearDuplicateCorpus } from "../internal/near-duplicate-corpus.js";
import { decontaminate } from "./decontaminate.js";
import { exactShingleJaccard } from "./shingles.js";

const sample = (id: string, input: string, output = "") => ({ id, input, output });

describe("decontaminate", () => {
  it("removes samples that near-duplicate the reference set, and only those (known answer)", () => {
    const test = [
      sample("t0", "What is the capital of France?", "Paris"),
      sample("t1", "Name three primes.", "2, 3, 5"),
    ];
    const train = [
      sample("a", "What is the capital of France ?", "Paris"),
      sample("b", "What is the capital of Spain?", "Madrid"),
      sample("c", "Name three primes.", "2, 3, 5"),
      sample("d", "Name three primes.", "2, 3, 5"),
    ];
    const { kept, removed } = decontaminate(train, test, { threshold: 0.8, key: "input" });
    expect(kept.map((s) => s.id)).toEqual(["b"]);
    expect(removed.map((r) => [r.index, r.reference])).toEqual([
      [0, 0],
      [2, 1],
      [3, 1],
    ]);
    expect(removed[0]?.similarity).toBeCloseTo(
      exactShingleJaccard(train[0]?.input ?? "", test[0]?.input ?? "", 5),
      12,
    );
  });

  it("on generated data, every removal is justified and most overlaps are found", () => {
    const { texts, copyOf } = nearDuplicateCorpus(1500, { seed: 3, editRate: [0.002, 0.01] });
    const reference = texts.slice(0, 500).map((text, i) => sample(`r${i}`, text));
    const data = texts.slice(500).map((text, i) => sample(`d${i}`, text));
    const { removed } = decontaminate(data, reference, { threshold: 0.7, key: "input" });
    for (const { index, reference: r } of removed) {
      expect(exactShingleJaccard(texts[500 + index] as string, texts[r] as string, 5)).toBeGreaterThanOrEqual(
        0.7,
      );
    }
    // Light edits of a reference text stay well above 0.7, so each such copy must be caught.
    const copies = copyOf.slice(500).filter((source) => source >= 0 && source < 500).length;
    expect(removed.length).toBeGreaterThanOrEqual(copies * 0.95);
  });

  it("rejects bad arguments naming them", () => {
    expect(() => decontaminate([sample("a", "x")], "nope" as never)).toThrow(
      expect.objectContaining({ field: "reference" }),
    );
    expect(() => decontaminate([], [], { threshold: 2 })).toThrow(
      expect.objectContaining({ field: "threshold" }),
    );
  });
});
