import { SeededRandom } from "@orbiter/types";
import { describe, expect, it } from "vitest";
import { sampleToken } from "./sample-token.js";

function logSoftmax(logits: number[]): Float32Array {
  const max = Math.max(...logits);
  const total = logits.reduce((sum, value) => sum + Math.exp(value - max), 0);
  return Float32Array.from(logits.map((value) => value - max - Math.log(total)));
}

const logits = [2.0, 1.5, 0.3, -1, 1.9, 0.2, -3, 0.9];
const logProbs = logSoftmax(logits);
const scratch = { order: new Int32Array(8), probs: new Float64Array(8) };
const ranked = [0, 4, 1, 7, 2, 5, 3, 6];

function draw(
  filter: { topK: number; topP: number; greedy: boolean },
  count: number,
  seed: number,
): number[] {
  const rng = new SeededRandom(seed);
  return Array.from({ length: count }, () => sampleToken(logProbs, 0, 8, filter, rng, scratch));
}

describe("sampleToken", () => {
  it("follows the distribution when unfiltered", () => {
    const counts = new Array(8).fill(0);
    for (const token of draw({ topK: 0, topP: 1, greedy: false }, 20000, 1)) counts[token]++;
    counts.forEach((count, token) => {
      expect(Math.abs(count / 20000 - Math.exp(logProbs[token]!))).toBeLessThan(0.015);
    });
  });

  it("never leaves the top-k set and renormalises inside it", () => {
    const tokens = draw({ topK: 3, topP: 1, greedy: false }, 5000, 2);
    expect(new Set(tokens)).toEqual(new Set(ranked.slice(0, 3)));
    const p = ranked.slice(0, 3).map((t) => Math.exp(logProbs[t]!));
    const share = tokens.filter((t) => t === 1).length / tokens.length;
    expect(Math.abs(share - p[2]! / (p[0]! + p[1]! + p[2]!))).toBeLessThan(0.03);
  });

  it("never leaves the nucleus of top-p", () => {
    const sorted = ranked.map((t) => Math.exp(logProbs[t]!));
    let mass = 0;
    let size = 0;
    while (mass < 0.8) mass += sorted[size++]!;
    const tokens = draw({ topK: 0, topP: 0.8, greedy: false }, 5000, 3);
    expect(new Set(tokens)).toEqual(new Set(ranked.slice(0, size)));
    const both = draw({ topK: 2, topP: 0.99, greedy: false }, 2000, 4);
    expect(new Set(both)).toEqual(new Set(ranked.slice(0, 2)));
  });

  it("is greedy when asked and reproducible for a seed", () => {
    expect(draw({ topK: 0, topP: 1, greedy: true }, 5, 5)).toEqual([0, 0, 0, 0, 0]);
    expect(draw({ topK: 4, topP: 0.9, greedy: false }, 50, 6)).toEqual(
      draw({ topK: 4, topP: 0.9, greedy: false }, 50, 6),
    );
    expect(draw({ topK: 0, topP: 1, greedy: false }, 50, 6)).not.toEqual(
      draw({ topK: 0, topP: 1, greedy: false }, 50, 7),
    );
  });
});
