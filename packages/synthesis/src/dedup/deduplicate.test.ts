import { InvalidArgumentError } from "@orbiter/types";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { exactGreedyRemovals, exactSimilarPairs } from "../internal/exact-pairs.js";
import { nearDuplicateCorpus } from "../internal/near-duplicate-corpus.js";
import { deduplicate, findNearDuplicates } from "./deduplicate.js";
import { exactShingleJaccard } from "./shingles.js";

const sample = (id: string, input: string, output = "") => ({ id, input, output, metadata: {} });

describe("deduplicate", () => {
  it("removes exact duplicates at threshold 1, keeping the first (known answer)", () => {
    const data = [sample("a", "x", "1"), sample("b", "y", "1"), sample("c", "x", "1"), sample("d", "x", "2")];
    expect(deduplicate(data, { threshold: 1 }).map((s) => s.id)).toEqual(["a", "b", "d"]);
    expect(deduplicate(data, { threshold: 1, key: "input" }).map((s) => s.id)).toEqual(["a", "b"]);
    expect(deduplicate(data, { threshold: 1, key: "output" }).map((s) => s.id)).toEqual(["a", "d"]);
    expect(deduplicate(data, { threshold: 1, key: (s) => s.id.toUpperCase() }).map((s) => s.id)).toEqual([
      "a",
      "b",
      "c",
      "d",
    ]);
  });

  it("removes near-duplicates at or above the threshold (known answer)", () => {
    const base = "Explain the difference between a process and a thread in an operating system";
    const data = [
      sample("a", base),
      sample("b", `${base}.`),
      sample("c", "Write a haiku about autumn leaves falling on a quiet pond"),
      sample("d", base.replace("process", "program")),
    ];
    const similarity = exactShingleJaccard(base, base.replace("process", "program"), 5);
    // 60 shared of 75 distinct shingles: exactly 0.8, which counts as a duplicate at threshold 0.8.
    expect(similarity).toBe(60 / 75);
    expect(deduplicate(data, { threshold: 0.9, key: "input" }).map((s) => s.id)).toEqual(["a", "c", "d"]);
    expect(deduplicate(data, { threshold: 0.8, key: "input" }).map((s) => s.id)).toEqual(["a", "c"]);
    const report = findNearDuplicates(data, { threshold: 0.8, key: "input" });
    expect(report.kept).toEqual([0, 2]);
    expect(report.removed.map((r) => [r.index, r.duplicateOf])).toEqual([
      [1, 0],
      [3, 0],
    ]);
    expect(report.removed[1]?.similarity).toBeCloseTo(similarity, 12);
  });

  it("matches exact greedy de-duplication on generated data, with no false removals", () => {
    const { texts } = nearDuplicateCorpus(700, { seed: 11, editRate: [0.002, 0.03] });
    const data = texts.map((text, i) => sample(String(i), text));
    const truth = exactGreedyRemovals(texts.length, exactSimilarPairs(texts, 0.9, 5));
    const report = findNearDuplicates(data, { threshold: 0.9, key: "input" });
    for (const { index, duplicateOf } of report.removed) {
      expect(
        exactShingleJaccard(texts[index] as string, texts[duplicateOf] as string, 5),
      ).toBeGreaterThanOrEqual(0.9);
    }
    const agreed = report.removed.filter((r) => truth.has(r.index)).length;
    expect(truth.size).toBeGreaterThan(40);
    expect(agreed / truth.size).toBeGreaterThanOrEqual(0.95);
  });

  const texts = fc.array(fc.stringMatching(/^[ab ]{0,24}$/), { maxLength: 40 });
  const threshold = fc.constantFrom(0.3, 0.5, 0.7, 0.9);

  const hashing = fc.constantFrom("one-permutation" as const, "independent" as const);

  it("property: idempotent", () => {
    fc.assert(
      fc.property(texts, threshold, hashing, (list, t, method) => {
        const data = list.map((text, i) => sample(String(i), text));
        const options = { threshold: t, shingleSize: 3, hashing: method };
        const once = deduplicate(data, options);
        expect(deduplicate(once, options)).toEqual(once);
      }),
      { seed: 42, numRuns: 200 },
    );
  });

  it("property: every removal is justified by a kept sample at or above the threshold", () => {
    fc.assert(
      fc.property(texts, threshold, hashing, (list, t, method) => {
        const data = list.map((text, i) => sample(String(i), text));
        const report = findNearDuplicates(data, {
          threshold: t,
          shingleSize: 3,
          key: "input",
          hashing: method,
        });
        const kept = new Set(report.kept);
        expect(report.kept.length + report.removed.length).toBe(list.length);
        for (const { index, duplicateOf } of report.removed) {
          expect(kept.has(duplicateOf)).toBe(true);
          expect(duplicateOf).toBeLessThan(index);
          expect(
            exactShingleJaccard(list[index] as string, list[duplicateOf] as string, 3),
          ).toBeGreaterThanOrEqual(t);
        }
      }),
      { seed: 43, numRuns: 200 },
    );
  });

  it("property: threshold 1 equals removing repeated strings", () => {
    fc.assert(
      fc.property(texts, (list) => {
        const data = list.map((text, i) => sample(String(i), text));
        const expected = list.filter((text, i) => list.indexOf(text) === i);
        expect(deduplicate(data, { threshold: 1, key: "input" }).map((s) => s.input)).toEqual(expected);
      }),
      { seed: 44, numRuns: 100 },
    );
  });

  it("rejects bad arguments naming the field", () => {
    const data = [sample("a", "x")];
    expect(() => deduplicate(data, { threshold: 1.2 })).toThrow(
      expect.objectContaining({ field: "threshold" }),
    );
    expect(() => deduplicate(data, { threshold: Number.NaN })).toThrow(InvalidArgumentError);
    expect(() => deduplicate(data, { key: "prompt" as "input" })).toThrow(
      expect.objectContaining({ field: "key" }),
    );
    expect(() => deduplicate(data, { thresold: 0.5 } as never)).toThrow(
      expect.objectContaining({ field: "thresold" }),
    );
    expect(() => deduplicate([{ id: "a", input: 3 }] as never)).toThrow(
      expect.objectContaining({ field: "data[0].input" }),
    );
    expect(() => deduplicate(data, { key: () => 3 as never })).toThrow(
      expect.objectContaining({ field: "key" }),
    );
  });
});
