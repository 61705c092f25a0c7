import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AugmentationResult, main, PLANTED_DUPLICATES } from "./augmentation.js";

let dir: string;
let result: AugmentationResult;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "example-augmentation-"));
  result = await main({ dir, log: () => {} });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const ids = (samples: ReadonlyArray<{ id: string }>) => samples.map((sample) => sample.id);

describe("augmentation example", () => {
  it("augmentAddNoise makes one noisy copy per sample, keeping scores and naming the original", () => {
    const { data, noisy } = result;
    expect(noisy).toHaveLength(data.length);
    noisy.forEach((copy, i) => {
      const original = data[i];
      expect(copy.id).toBe(`${original?.id}:noise`);
      expect(copy.score).toBe(original?.score);
      expect(copy.output).toBe(original?.output);
      expect(copy.metadata.augmentedFrom).toBe(original?.id);
    });
    const edited = noisy.filter((copy, i) => copy.input !== data[i]?.input).length;
    expect(edited).toBeGreaterThan(data.length / 3);
    expect(edited).toBeLessThan(data.length);
  });

  it("augmentSwapIo exchanges input and output", () => {
    result.swapped.forEach((copy, i) => {
      expect(copy.input).toBe(result.data[i]?.output);
      expect(copy.output).toBe(result.data[i]?.input);
      expect(copy.id).toBe(`${result.data[i]?.id}:swap`);
    });
  });

  it("filterByScore keeps exactly the samples scoring at least 0.7, in order", () => {
    const expected = result.data.filter((sample) => (sample.score ?? 0) >= 0.7);
    expect(result.filtered).toEqual(expected);
    expect(result.filtered.length).toBeGreaterThan(0);
    expect(result.filtered.length).toBeLessThan(result.data.length);
  });

  it("deduplicate removes exactly the planted exact and near copies", () => {
    const removed = result.data.filter((sample) => !result.unique.includes(sample));
    expect(ids(removed)).toEqual(PLANTED_DUPLICATES);
    expect(result.unique).toHaveLength(48);
  });

  it("splitDataset makes disjoint 80 / 10 / 10 splits covering every sample", () => {
    const { train, val, test } = result.split;
    const n = result.data.length;
    expect(train.length + val.length + test.length).toBe(n);
    expect(Math.abs(train.length - 0.8 * n)).toBeLessThan(1);
    expect(Math.abs(val.length - 0.1 * n)).toBeLessThan(1);
    expect(Math.abs(test.length - 0.1 * n)).toBeLessThan(1);
    expect(new Set([...ids(train), ...ids(val), ...ids(test)]).size).toBe(n);
  });

  it("augments only the training split of the cleaned data, and writes the three files", async () => {
    const { clean, train, val, test } = result.prepared;
    for (const sample of clean) expect(sample.score).toBeGreaterThanOrEqual(0.7);
    const heldOut = new Set([...ids(val), ...ids(test)]);
    const originals = train.map((sample) => sample.id.replace(/:(noise|swap)$/, ""));
    for (const id of originals) expect(heldOut.has(id), id).toBe(false);
    expect(train.length % 3).toBe(0);
    expect(train.length / 3 + val.length + test.length).toBe(clean.length);
    const read = async (path: string) =>
      (await readFile(path, "utf8"))
        .trimEnd()
        .split("\n")
        .map((line) => JSON.parse(line).id as string);
    expect(await read(result.files.train)).toEqual(ids(train));
    expect(await read(result.files.val)).toEqual(ids(val));
    expect(await read(result.files.test)).toEqual(ids(test));
  });
});
