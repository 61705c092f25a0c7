import { InvalidArgumentError, type JsonValue, SeededRandom } from "@orbiter/types";

/** How {@link splitDataset} keeps items together: a function of the item, or a `metadata` field name. */
export type GroupBy<T> = ((item: T, index: number) => string | number) | string;

/** Options of {@link splitDataset}. */
export interface SplitOptions<T, R extends ReadonlyArray<number> = ReadonlyArray<number>> {
  /** Share of each split; non-negative, summing to 1 (within 1e-9). */
  ratios: R;
  /** Seed of the shuffle. @default 0 */
  seed?: number;
  /**
   * Keeps every group inside one split (e.g. all samples of one task). A string names a `metadata` field;
   * items without that field form a group each. @default undefined (items are split one by one)
   */
  groupBy?: GroupBy<T>;
}

/** One array per ratio. */
export type Splits<T, R extends ReadonlyArray<number>> = { -readonly [K in keyof R]: T[] };

const TOLERANCE = 1e-9;

/**
 * Split sizes for `total` items: `ratio × total` rounded by the largest remainder method (floors first, the
 * left-over items to the largest fractional parts, ties to the earlier split), so sizes sum to `total` and
 * each is within one of its exact share.
 */
export function splitSizes(total: number, ratios: ReadonlyArray<number>): number[] {
  const exact = ratios.map((ratio) => ratio * total);
  const sizes = exact.map((value) => Math.floor(value + TOLERANCE));
  let left = total - sizes.reduce((sum, size) => sum + size, 0);
  const order = exact
    .map((value, i) => ({ i, fraction: value - (sizes[i] as number) }))
    .sort((a, b) => b.fraction - a.fraction || a.i - b.i);
  for (let k = 0; left > 0 && k < order.length; k++, left--) {
    const { i } = order[k] as { i: number };
    sizes[i] = (sizes[i] as number) + 1;
  }
  return sizes;
}

/**
 * Splits data into any number of parts with the given ratios (e.g. train / validation / test), at random but
 * reproducibly for a seed. Sizes follow the largest remainder method (see {@link splitSizes}); each part keeps
 * the items' original order; the parts are disjoint and together hold every item.
 *
 * With `groupBy`, whole groups are assigned: groups are shuffled, then placed largest first into the part
 * furthest below its target size, so no part exceeds its target by as much as the largest group. Items without
 * the metadata field are groups of their own; a field that no item has is refused (`InvalidArgumentError`).
 *
 * @example
 * ```ts
 * const [train, val, test] = splitDataset(samples, { ratios: [0.8, 0.1, 0.1], seed: 1 });
 * const [a, b] = splitDataset(samples, { ratios: [0.5, 0.5], groupBy: "task" }); // metadata.task
 * ```
 */
export function splitDataset<T, const R extends ReadonlyArray<number>>(
  data: ReadonlyArray<T>,
  options: SplitOptions<T, R>,
): Splits<T, R> {
  if (!Array.isArray(data)) {
    throw new InvalidArgumentError("data must be an array", { field: "data", value: data });
  }
  if (options == null || typeof options !== "object") {
    throw new InvalidArgumentError("options must be an object with ratios", { field: "options" });
  }
  for (const key of Object.keys(options)) {
    if (key !== "ratios" && key !== "seed" && key !== "groupBy") {
      throw new InvalidArgumentError(`Unknown option "${key}"`, { field: key });
    }
  }
  const { ratios, seed = 0, groupBy } = options;
  checkRatios(ratios);
  if (!Number.isFinite(seed)) {
    throw new InvalidArgumentError(`seed must be a finite number, got ${seed}`, {
      field: "seed",
      value: seed,
    });
  }
  if (groupBy !== undefined && typeof groupBy !== "function" && typeof groupBy !== "string") {
    throw new InvalidArgumentError("groupBy must be a function or a metadata field name", {
      field: "groupBy",
    });
  }
  const random = new SeededRandom(seed);
  const targets = splitSizes(data.length, ratios);
  const assignment = new Int32Array(data.length);
  if (groupBy === undefined) {
    const order = random.shuffleInPlace(Array.from({ length: data.length }, (_, i) => i));
    let at = 0;
    targets.forEach((size, part) => {
      for (let k = 0; k < size; k++) assignment[order[at++] as number] = part;
    });
  } else {
    const groups = groupItems(data, groupBy);
    const shuffled = random.shuffleInPlace(groups);
    // Largest first; equal sizes keep the shuffled order (Array.prototype.sort is stable).
    shuffled.sort((a, b) => b.length - a.length);
    const filled = targets.map(() => 0);
    for (const group of shuffled) {
      let best = 0;
      for (let part = 1; part < targets.length; part++) {
        const deficit = (targets[part] as number) - (filled[part] as number);
        if (deficit > (targets[best] as number) - (filled[best] as number)) best = part;
      }
      filled[best] = (filled[best] as number) + group.length;
      for (const i of group) assignment[i] = best;
    }
  }
  const parts: T[][] = ratios.map(() => []);
  for (let i = 0; i < data.length; i++) (parts[assignment[i] as number] as T[]).push(data[i] as T);
  return parts as Splits<T, R>;
}

function checkRatios(ratios: unknown): asserts ratios is ReadonlyArray<number> {
  if (!Array.isArray(ratios) || ratios.length === 0) {
    throw new InvalidArgumentError("ratios must be a non-empty array of numbers", {
      field: "ratios",
      value: ratios,
    });
  }
  let sum = 0;
  ratios.forEach((ratio, i) => {
    if (typeof ratio !== "number" || !Number.isFinite(ratio) || ratio < 0) {
      throw new InvalidArgumentError(
        `ratios[${i}] must be a finite non-negative number, got ${String(ratio)}`,
        {
          field: `ratios[${i}]`,
          value: ratio,
        },
      );
    }
    sum += ratio;
  });
  if (Math.abs(sum - 1) > TOLERANCE * ratios.length + 1e-12) {
    throw new InvalidArgumentError(`ratios must sum to 1, got ${sum}`, { field: "ratios", value: ratios });
  }
}

/** Item positions grouped by key, groups in order of first appearance. */
function groupItems<T>(data: ReadonlyArray<T>, groupBy: GroupBy<T>): number[][] {
  const byKey = new Map<string, number[]>();
  const groups: number[][] = [];
  let grouped = false;
  for (let i = 0; i < data.length; i++) {
    const item = data[i] as T;
    let key: string | undefined;
    if (typeof groupBy === "function") {
      const value = groupBy(item, i);
      if (typeof value !== "string" && typeof value !== "number") {
        throw new InvalidArgumentError(
          `groupBy(data[${i}]) returned ${typeof value}, expected a string or number`,
          {
            field: "groupBy",
            value,
          },
        );
      }
      key = `${typeof value}:${value}`;
    } else {
      const metadata = (item as { metadata?: Record<string, JsonValue> } | null)?.metadata;
      const value = metadata?.[groupBy];
      key = value === undefined ? undefined : JSON.stringify(value);
    }
    grouped ||= key !== undefined;
    if (key === undefined) {
      groups.push([i]);
      continue;
    }
    let group = byKey.get(key);
    if (!group) {
      group = [];
      byKey.set(key, group);
      groups.push(group);
    }
    group.push(i);
  }
  if (!grouped && data.length > 0) {
    throw new InvalidArgumentError(
      `groupBy: no item has a metadata field "${String(groupBy)}", so nothing would be grouped (a misspelt name?)`,
      { field: "groupBy", value: groupBy },
    );
  }
  return groups;
}
