/**
 * The GRPO groups of a step that carry no group-relative signal: groups (the responses or episodes of one task)
 * whose scored members all got the same total. Episodes whose total is `null` (abstained) count as 0, as in
 * single-turn training; a task none of whose episodes finished is not a group here.
 *
 * @param totals total reward of each finished episode (`null` when it abstained)
 * @param taskIndices the task (group) of each finished episode, in the same order
 * @returns the task indices of the flat groups, and the fraction of groups they are
 *
 * @example
 * ```ts
 * flatTaskGroups([1, 1, 0.5, 1], [0, 0, 1, 1]); // { flat: Set { 0 }, fraction: 0.5 }
 * ```
 */
export function flatTaskGroups(
  totals: ReadonlyArray<number | null>,
  taskIndices: ReadonlyArray<number>,
): { flat: Set<number>; fraction: number } {
  const first = new Map<number, number>();
  const mixed = new Set<number>();
  taskIndices.forEach((task, row) => {
    const value = totals[row] ?? 0;
    const seen = first.get(task);
    if (seen === undefined) first.set(task, value);
    else if (Math.abs(value - seen) >= 1e-12) mixed.add(task);
  });
  const flat = new Set([...first.keys()].filter((task) => !mixed.has(task)));
  return { flat, fraction: first.size === 0 ? 0 : flat.size / first.size };
}
