import { SeededRandom } from "@orbiter/types";
import { describe, expect, it } from "vitest";
import {
  exactShingleJaccard,
  fingerprintJaccard,
  shingleFingerprints,
  shingleSet,
  sortUnique,
} from "./shingles.js";

function fingerprints(text: string, size: number): Uint32Array {
  const out = new Uint32Array(text.length + 1);
  return out.slice(0, shingleFingerprints(text, size, out));
}

describe("sortUnique", () => {
  it("sorts and removes repeats, for short and long runs, in place within the range", () => {
    const random = new SeededRandom(4);
    for (const length of [0, 1, 2, 5, 32, 33, 200, 1000]) {
      const values = new Uint32Array(length + 4);
      for (let i = 0; i < values.length; i++)
        values[i] = random.integer(0, length < 50 ? 20 : 2 ** 32 - 1) >>> 0;
      const before = values.slice();
      const end = sortUnique(values, 2, 2 + length);
      const expected = [...new Set(before.subarray(2, 2 + length))].sort((a, b) => a - b);
      expect([...values.subarray(2, end)]).toEqual(expected);
      expect(values[0]).toBe(before[0]);
      expect(values[values.length - 1]).toBe(before[before.length - 1]);
    }
  });
});

describe("shingles", () => {
  it("lists the character shingles of a text", () => {
    expect([...shingleSet("abcde", 3)]).toEqual(["abc", "bcd", "cde"]);
    expect([...shingleSet("aaaa", 2)]).toEqual(["aa"]);
    expect([...shingleSet("ab", 3)]).toEqual(["ab"]);
    expect(shingleSet("", 3).size).toBe(0);
  });

  it("computes exact Jaccard similarity (known answers)", () => {
    // {abc, bcd, cde, def} vs {abc, bcd, cde, deg}: 3 shared of 5.
    expect(exactShingleJaccard("abcdef", "abcdeg", 3)).toBeCloseTo(0.6, 12);
    expect(exactShingleJaccard("same text", "same text", 5)).toBe(1);
    expect(exactShingleJaccard("abcd", "wxyz", 2)).toBe(0);
    expect(exactShingleJaccard("", "", 5)).toBe(1);
    expect(exactShingleJaccard("", "abc", 5)).toBe(0);
  });

  it("fingerprints agree with the shingle sets: same count, same Jaccard", () => {
    const a = "the quick brown fox jumps over the lazy dog";
    const b = "the quick brown fox jumped over the lazy dogs";
    const fa = fingerprints(a, 5);
    const fb = fingerprints(b, 5);
    expect(fa.length).toBe(shingleSet(a, 5).size);
    expect(fb.length).toBe(shingleSet(b, 5).size);
    for (let i = 1; i < fa.length; i++) expect(fa[i] as number).toBeGreaterThan(fa[i - 1] as number);
    expect(fingerprintJaccard(fa, 0, fa.length, fb, 0, fb.length)).toBeCloseTo(
      exactShingleJaccard(a, b, 5),
      12,
    );
  });

  it("gives a window and a whole text of the same characters the same fingerprint", () => {
    const whole = fingerprints("hello", 5);
    const windows = fingerprints("xhello", 5);
    expect(whole.length).toBe(1);
    expect([...windows]).toContain(whole[0]);
  });
});
