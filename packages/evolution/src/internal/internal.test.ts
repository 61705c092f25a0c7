import { AbortedError } from "@orbiter/types";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { sleep } from "../__fixtures__/sphere-strategy.js";
import { runPool } from "./run-pool.js";
import { stableKey } from "./stable-key.js";

describe("stableKey", () => {
  it("ignores key order and distinguishes values, including through nesting", () => {
    expect(stableKey({ a: 1, b: [2, { c: "x", d: null }] })).toBe(
      stableKey({ b: [2, { d: null, c: "x" }], a: 1 }),
    );
    expect(stableKey([1, "1"])).not.toBe(stableKey(["1", 1]));
    expect(stableKey({ a: undefined, b: 1 })).toBe(stableKey({ b: 1 }));
    expect(stableKey(Number.NaN)).toBe("NaN");
    expect(stableKey(Number.NaN)).not.toBe(stableKey("NaN"));
    expect(stableKey([Number.NEGATIVE_INFINITY])).not.toBe(stableKey(["-Infinity"]));
  });

  it("returns undefined for values that are not JSON-like", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(stableKey(cyclic)).toBeUndefined();
    expect(stableKey(() => 1)).toBeUndefined();
    expect(stableKey(new Map())).toBeUndefined();
    expect(stableKey([1, Symbol("s")])).toBeUndefined();
    // A shared (non-cyclic) reference is fine.
    const shared = { x: 1 };
    expect(stableKey([shared, shared])).toBe('[{"x":1},{"x":1}]');
  });

  it("equals JSON.stringify for JSON arrays and gives equal keys exactly for equal JSON values", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.integer(), fc.string(), fc.boolean())), (values) => {
        expect(stableKey(values)).toBe(JSON.stringify(values));
      }),
    );
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
        const sameJson = JSON.stringify(sortDeep(a)) === JSON.stringify(sortDeep(b));
        expect(stableKey(a) === stableKey(b)).toBe(sameJson);
      }),
    );
  });
});

function sortDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortDeep);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, sortDeep((value as Record<string, unknown>)[key])]),
    );
  }
  return Object.is(value, -0) ? 0 : value;
}

describe("runPool", () => {
  it("starts tasks in index order, caps concurrency and waits for all", async () => {
    const started: number[] = [];
    let active = 0;
    let peak = 0;
    await runPool(
      10,
      3,
      async (index) => {
        started.push(index);
        active++;
        peak = Math.max(peak, active);
        await sleep(10 - index);
        active--;
      },
      new AbortController().signal,
    );
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(peak).toBe(3);
    expect(active).toBe(0);
  });

  it("rejects with the first error (sync or async) and starts nothing after it", async () => {
    const started: number[] = [];
    const failing = runPool(
      10,
      2,
      (index) => {
        started.push(index);
        if (index === 3) throw new Error("sync failure");
        return sleep(1);
      },
      new AbortController().signal,
    );
    await expect(failing).rejects.toThrow("sync failure");
    await sleep(5);
    expect(Math.max(...started)).toBe(3);
    await expect(
      runPool(3, 3, async () => Promise.reject(new Error("async failure")), new AbortController().signal),
    ).rejects.toThrow("async failure");
  });

  it("rejects at once with AbortedError when the signal aborts, and resolves for zero tasks", async () => {
    const controller = new AbortController();
    const pending = runPool(5, 1, () => sleep(1000), controller.signal);
    controller.abort(new Error("why"));
    const error = await pending.catch((caught: unknown) => caught);
    expect(AbortedError.isInstance(error)).toBe(true);
    await expect(runPool(0, 1, () => undefined, new AbortController().signal)).resolves.toBeUndefined();
  });
});
