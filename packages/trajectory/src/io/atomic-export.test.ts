import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TrajectoryDataset } from "../dataset/trajectory-dataset.js";

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), "orbiter-trajectory-atomic-"));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

function dataset(count: number, brokenAt = -1): TrajectoryDataset {
  const result = new TrajectoryDataset();
  for (let index = 0; index < count; index++) {
    result.capture({
      id: `item-${index}`,
      timestamp: index,
      state: index === brokenAt ? "lone \uD800" : `state ${index} ${"x".repeat(500)}`,
      action: "act",
      reward: index,
    });
  }
  return result;
}

async function temporaryFiles(): Promise<string[]> {
  return (await readdir(directory)).filter((name) => name.endsWith(".tmp"));
}

describe("atomic export", () => {
  it.each(["json", "jsonl", "csv"] as const)(
    "%s replaces the target whole and reports what it wrote",
    async (format) => {
      const path = join(directory, `replace.${format}`);
      await writeFile(path, "old content that is longer than nothing\n");
      const source = dataset(10);
      const method = format === "json" ? "exportJson" : format === "jsonl" ? "exportJsonl" : "exportCsv";
      const summary = await source[method](path);
      const content = await readFile(path);
      expect(summary).toEqual({ path, records: 10, bytes: content.length });
      expect(content.toString()).not.toContain("old content");
      expect(await temporaryFiles()).toEqual([]);
    },
  );

  it("leaves the previous target untouched when the export fails after megabytes were written", async () => {
    const path = join(directory, "failing.csv");
    await writeFile(path, "previous\n");
    // ~5 MB of rows are written (the 4 MiB buffer is drained at least once) before item 9000 fails.
    await expect(dataset(10_000, 9000).exportCsv(path)).rejects.toMatchObject({ field: "items[9000].state" });
    expect(await readFile(path, "utf8")).toBe("previous\n");
    expect(await temporaryFiles()).toEqual([]);
  });

  it("fails cleanly when the folder does not exist or the target is a folder", async () => {
    await expect(dataset(1).exportJsonl(join(directory, "no-such-folder", "x.jsonl"))).rejects.toMatchObject({
      code: "ENOENT",
    });
    await expect(dataset(1).exportJsonl(directory)).rejects.toThrow();
    expect(await temporaryFiles()).toEqual([]);
  });

  it("exports the items present when called, even if more are captured meanwhile", async () => {
    const path = join(directory, "snapshot.jsonl");
    const source = dataset(100);
    const pending = source.exportJsonl(path);
    source.capture({ state: "late", action: "a", reward: 0 });
    expect((await pending).records).toBe(100);
    expect((await TrajectoryDataset.fromJsonl(path)).length).toBe(100);
    expect(source.length).toBe(101);
  });

  it("rejects a bad path with InvalidArgumentError", async () => {
    await expect(dataset(1).exportJson("")).rejects.toMatchObject({
      name: "InvalidArgumentError",
      field: "path",
    });
    await expect(dataset(1).exportCsv(42 as unknown as string)).rejects.toMatchObject({ field: "path" });
  });
});
