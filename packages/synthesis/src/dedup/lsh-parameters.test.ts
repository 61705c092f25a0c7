import { InvalidArgumentError } from "@orbiter/types";
import { describe, expect, it } from "vitest";
import { chooseLshParameters, lshCandidateProbability } from "./lsh-parameters.js";

describe("chooseLshParameters", () => {
  it("picks the steepest shape that reaches the recall (known answers)", () => {
    // 0.9^7 = 0.478; 1 - 0.522^8 = 0.9945 ≥ 0.99, while 8 rows would need 9 bands (72 > 64 hashes).
    const shape = chooseLshParameters(0.9, { maxHashes: 64 });
    expect(shape).toMatchObject({ bands: 8, rows: 7 });
    expect(shape.recallAtThreshold).toBeCloseTo(1 - (1 - 0.9 ** 7) ** 8, 12);
    expect(chooseLshParameters(0.9, { maxHashes: 128 })).toMatchObject({ bands: 11, rows: 10 });
    // 0.5^2 = 0.25 needs 17 bands (34 hashes); 3 rows would need 35 bands (105 > 64).
    expect(chooseLshParameters(0.5, { maxHashes: 64 })).toMatchObject({ bands: 17, rows: 2 });
  });

  it("always reaches the recall when it can", () => {
    for (const threshold of [0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99]) {
      const { bands, rows, recallAtThreshold } = chooseLshParameters(threshold, {
        maxHashes: 128,
        recall: 0.99,
      });
      expect(bands * rows).toBeLessThanOrEqual(128);
      expect(recallAtThreshold).toBeGreaterThanOrEqual(0.99);
      // One more row per band would need more hashes than allowed.
      const bandsWithMoreRows = Math.ceil(Math.log(0.01) / Math.log(1 - threshold ** (rows + 1)));
      expect(bandsWithMoreRows * (rows + 1)).toBeGreaterThan(128);
    }
  });

  it("returns the best reachable shape when the recall is out of reach", () => {
    const shape = chooseLshParameters(0.02, { maxHashes: 16, recall: 0.99 });
    expect(shape).toMatchObject({ bands: 16, rows: 1 });
    expect(shape.recallAtThreshold).toBeCloseTo(1 - 0.98 ** 16, 12);
  });

  it("computes the candidate probability", () => {
    expect(lshCandidateProbability(1, 4, 5)).toBe(1);
    expect(lshCandidateProbability(0, 4, 5)).toBe(0);
    expect(lshCandidateProbability(0.5, 2, 2)).toBeCloseTo(1 - 0.75 ** 2, 12);
  });

  it("rejects bad arguments naming them", () => {
    expect(() => chooseLshParameters(1)).toThrow(InvalidArgumentError);
    expect(() => chooseLshParameters(Number.NaN)).toThrow(expect.objectContaining({ field: "threshold" }));
    expect(() => chooseLshParameters(0.5, { maxHashes: 0 })).toThrow(
      expect.objectContaining({ field: "maxHashes" }),
    );
    expect(() => chooseLshParameters(0.5, { recall: 1 })).toThrow(
      expect.objectContaining({ field: "recall" }),
    );
  });
});
