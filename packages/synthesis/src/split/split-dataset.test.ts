import fc from "fast-check";
import { describe, expect, expectTypeOf, it } from "vitest";
import { splitDataset, splitSizes } from "./split-dataset.js";

const numbers = (n: number) => Array.from({ length: n }, (_, i) => i);

describe("splitSizes", () => {
  it("rounds by largest remainder (known answers)", () => {
    expect(splitSizes(10, [0.8, 0.1, 0.1])).toEqual([8, 1, 1]);
    expect(splitSizes(7, [0.5, 0.5])).toEqual([4, 3]);
    expect(splitSizes(10, [1 / 3, 1 / 3, 1 / 3])).toEqual([4, 3, 3]);
    expect(splitSizes(11, [0.7, 0.2, 0.1])).toEqual([8, 2, 1]);
    expect(splitSizes(3, [0, 0.5, 0.5])).toEqual([0, 2, 1]);
    expect(splitSizes(0, [0.8, 0.2])).toEqual([0, 0]);
  });
});

describe("splitDataset", () => {
  it("splits reproducibly, keeping the original order inside each part (known answer)", () => {
    const [train, val, test] = splitDataset(numbers(10), { ratios: [0.5, 0.3, 0.2], seed: 1 });
    expectTypeOf(train).toEqualTypeOf<number[]>();
    expect([train, val, test]).toEqual([
      [0, 4, 5, 7, 8],
      [2, 3, 6],
      [1, 9],
    ]);
    expect([train.length, val.length, test.length]).toEqual([5, 3, 2]);
    expect(splitDataset(numbers(10), { ratios: [0.5, 0.3, 0.2], seed: 1 })).toEqual([train, val, test]);
    for (const part of [train, val, test]) expect(part).toEqual([...part].sort((a, b) => a - b));
    expect(splitDataset(numbers(10), { ratios: [0.5, 0.3, 0.2], seed: 2 })).not.toEqual([train, val, test]);
  });

  const ratios = fc
    .array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 5 })
    .filter((weights) => weights.some((w) => w > 0))
    .map((weights) => {
      const total = weights.reduce((a, b) => a + b, 0);
      return weights.map((w) => w / total);
    });

  it("property: parts are disjoint, complete and sized by largest remainder", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300 }), ratios, fc.integer(), (n, r, seed) => {
        const parts = splitDataset(numbers(n), { ratios: r, seed });
        expect(parts).toHaveLength(r.length);
        expect(parts.map((p) => p.length)).toEqual(splitSizes(n, r));
        const all = parts.flat().sort((a, b) => a - b);
        expect(all).toEqual(numbers(n));
        parts.forEach((part, i) => {
          expect(Math.abs(part.length - (r[i] as number) * n)).toBeLessThan(1 + 1e-9);
        });
      }),
      { seed: 12, numRuns: 200 },
    );
  });

  it("property: groupBy keeps each group in one part, near the target sizes", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 12 }), { maxLength: 200 }),
        ratios,
        fc.integer(),
        (groupOf, r, seed) => {
          const data = groupOf.map((g, i) => ({ id: i, metadata: { task: `t${g}` } }));
          const parts = splitDataset(data, { ratios: r, seed, groupBy: "task" });
          const home = new Map<string, number>();
          parts.forEach((part, p) => {
            for (const item of part) {
              const task = item.metadata.task;
              expect(home.get(task) ?? p).toBe(p);
              home.set(task, p);
            }
          });
          expect(parts.flat().length).toBe(data.length);
          const largest = Math.max(
            0,
            ...[...new Set(groupOf)].map((g) => groupOf.filter((x) => x === g).length),
          );
          const targets = splitSizes(data.length, r);
          parts.forEach((part, p) => {
            expect(part.length - (targets[p] as number)).toBeLessThan(Math.max(1, largest));
          });
        },
      ),
      { seed: 13, numRuns: 200 },
    );
  });

  it("keeps groups whole (known answer)", () => {
    const data = numbers(10).map((i) => ({ id: i, metadata: { task: `t${i % 4}` } }));
    const parts = splitDataset(data, { ratios: [0.5, 0.5], seed: 1, groupBy: "task" });
    expect(parts.map((part) => part.map((item) => item.id))).toEqual([
      [0, 2, 4, 6, 8],
      [1, 3, 5, 7, 9],
    ]);
  });

  it("with singleton groups (a function), matches the target sizes exactly", () => {
    const parts = splitDataset(numbers(50), { ratios: [0.6, 0.4], groupBy: (n) => n, seed: 4 });
    expect(parts.map((p) => p.length)).toEqual([30, 20]);
  });

  it("rejects bad arguments naming the field", () => {
    expect(() => splitDataset(numbers(3), { ratios: [0.5, 0.4] })).toThrow(
      expect.objectContaining({ field: "ratios" }),
    );
    expect(() => splitDataset(numbers(3), { ratios: [1.5, -0.5] })).toThrow(
      expect.objectContaining({ field: "ratios[1]" }),
    );
    expect(() => splitDataset(numbers(3), { ratios: [] })).toThrow(
      expect.objectContaining({ field: "ratios" }),
    );
    expect(() => splitDataset(numbers(3), { ratios: [Number.NaN, 1] })).toThrow(
      expect.objectContaining({ field: "ratios[0]" }),
    );
    expect(() => splitDataset(numbers(3), { ratios: [1], shuffle: true } as never)).toThrow(
      expect.objectContaining({ field: "shuffle" }),
    );
    expect(() => splitDataset(numbers(3), { ratios: [1], groupBy: () => ({}) as never })).toThrow(
      expect.objectContaining({ field: "groupBy" }),
    );
  });

  it("refuses a groupBy metadata field that no item has (a typo would split without groups)", () => {
    const data = numbers(6).map((i) => ({ id: i, metadata: { task: `t${i % 2}` } }));
    expect(() => splitDataset(data, { ratios: [0.5, 0.5], groupBy: "taks" })).toThrow(
      expect.objectContaining({
        name: "InvalidArgumentError",
        field: "groupBy",
        message: expect.stringContaining("taks"),
      }),
    );
    const some = data.map((item, i) => (i < 3 ? item : { id: item.id, metadata: {} }));
    expect(splitDataset(some, { ratios: [0.5, 0.5], groupBy: "task" }).flat()).toHaveLength(6);
    expect(splitDataset([], { ratios: [1], groupBy: "task" })).toEqual([[]]);
  });
});
