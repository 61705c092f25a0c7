import { SeededRandom } from "@orbiter/types";
import { describe, expect, it } from "vitest";
import { applyNoise, augmentAddNoise } from "./augment-add-noise.js";
import { keyboardNeighbours } from "./keyboard-neighbours.js";

const words = (text: string) => text.split(/\s+/).filter(Boolean);

describe("augmentAddNoise", () => {
  it("marks copies and keeps the original untouched", () => {
    const original = {
      id: "s1",
      input: "hello world",
      output: "hi",
      score: 0.9,
      metadata: { task: "greet" },
    };
    const [copy] = augmentAddNoise([original], { noiseLevel: 0, seed: 1 });
    expect(copy).toEqual({
      id: "s1:noise",
      input: "hello world",
      output: "hi",
      score: 0.9,
      metadata: { task: "greet", noiseEdits: 0, augmentation: ["noise"], augmentedFrom: "s1" },
    });
    expect(original.metadata).toEqual({ task: "greet" });
  });

  it("gives a fixed result for a fixed seed (known answer)", () => {
    const data = [{ id: "g", input: "The quick brown fox jumps over the lazy dog", output: "ok" }];
    expect(augmentAddNoise(data, { noiseLevel: 0.4, seed: 3 })).toEqual([
      {
        id: "g:noise",
        input: "The quick brown fxo jups over the lazy dgo", // a swap, a drop, a swap
        output: "ok",
        metadata: { noiseEdits: 3, augmentation: ["noise"], augmentedFrom: "g" },
      },
    ]);
  });

  it("touches every word at noise level 1 and about noiseLevel of them otherwise", () => {
    const random = new SeededRandom(3);
    const text = Array.from({ length: 4000 }, () => "abcdefghij".slice(0, random.integer(2, 9))).join(" ");
    const all = applyNoise(text, 1, new SeededRandom(1));
    expect(all.edits).toBe(4000);
    const some = applyNoise(text, 0.1, new SeededRandom(2));
    expect(some.edits).toBeGreaterThan(4000 * 0.085);
    expect(some.edits).toBeLessThan(4000 * 0.115);
    expect(some.text).not.toBe(text);
  });

  it("makes real character edits and word dropout", () => {
    const text = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike";
    const outcomes = new Set<string>();
    for (let seed = 0; seed < 200; seed++) {
      const noisy = applyNoise(text, 0.3, new SeededRandom(seed)).text;
      const before = words(text);
      const after = words(noisy);
      if (after.length < before.length) outcomes.add("dropout");
      for (let i = 0; i < Math.min(before.length, after.length); i++) {
        const a = before[i] as string;
        const b = after[i] as string;
        if (a === b || after.length !== before.length) continue;
        if (b.length === a.length + 1) outcomes.add("duplicate");
        else if (b.length === a.length - 1) outcomes.add("drop");
        else if ([...a].sort().join("") === [...b].sort().join("")) outcomes.add("swap");
        else {
          // One character replaced by a key next to it on the keyboard.
          const at = [...a].findIndex((c, k) => c !== b[k]);
          expect(keyboardNeighbours().get(a[at] as string)).toContain(b[at]);
          outcomes.add("substitute");
        }
      }
    }
    expect([...outcomes].sort()).toEqual(["drop", "dropout", "duplicate", "substitute", "swap"]);
  });

  it("substitutes keyboard neighbours and never drops the last word", () => {
    const neighbours = keyboardNeighbours();
    expect([...(neighbours.get("s") ?? "")].sort().join("")).toBe("adewxz");
    expect([...(neighbours.get("Q") ?? "")].sort().join("")).toBe("12AW");
    for (let seed = 0; seed < 50; seed++) {
      expect(applyNoise("word", 1, new SeededRandom(seed)).text.length).toBeGreaterThan(0);
    }
  });

  it("is deterministic for a seed and can target the output", () => {
    const data = [{ id: "a", input: "the cat sat on the mat", output: "a cat is sitting on a mat" }];
    const a = augmentAddNoise(data, { noiseLevel: 0.5, seed: 9, field: "output" });
    expect(augmentAddNoise(data, { noiseLevel: 0.5, seed: 9, field: "output" })).toEqual(a);
    expect(a[0]?.input).toBe(data[0]?.input);
    expect(a[0]?.output).not.toBe(data[0]?.output);
  });

  it("rejects bad options naming the field", () => {
    expect(() => augmentAddNoise([], { noiseLevel: 1.5 })).toThrow(
      expect.objectContaining({ field: "noiseLevel" }),
    );
    expect(() => augmentAddNoise([], { noiseLevel: Number.NaN })).toThrow(
      expect.objectContaining({ field: "noiseLevel" }),
    );
    expect(() => augmentAddNoise([], { level: 0.1 } as never)).toThrow(
      expect.objectContaining({ field: "level" }),
    );
    expect(() => augmentAddNoise([{ input: "x" }] as never)).toThrow(
      expect.objectContaining({ field: "data[0].output" }),
    );
  });
});
