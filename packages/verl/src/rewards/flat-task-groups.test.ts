import { describe, expect, it } from "vitest";
import { flatTaskGroups } from "./flat-task-groups.js";

describe("flatTaskGroups", () => {
  it("finds the tasks whose episodes all scored the same, whatever their order", () => {
    const { flat, fraction } = flatTaskGroups([0.5, 1, 0.5, 0.5, 0, 0.5], [0, 1, 0, 1, 2, 2]);
    expect([...flat]).toEqual([0]);
    expect(fraction).toBeCloseTo(1 / 3, 12);
  });

  it("counts an abstention as 0 and ignores tasks with no finished episode", () => {
    const { flat, fraction } = flatTaskGroups([null, 0, 1, null], [0, 0, 3, 3]);
    expect([...flat]).toEqual([0]);
    expect(fraction).toBe(0.5);
  });

  it("is empty with no episodes", () => {
    const { flat, fraction } = flatTaskGroups([], []);
    expect(flat.size).toBe(0);
    expect(fraction).toBe(0);
  });
});
