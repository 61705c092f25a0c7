import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InvalidArgumentError } from "@orbiter/types";
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

describe("unusable paths", () => {
  const methods = { json: "exportJson", jsonl: "exportJsonl", csv: "exportCsv" } as const;
  const readers = { json: "fromJson", jsonl: "fromJsonl", csv: "fromCsv" } as const;

  async function rejection(promise: Promise<unknown>): Promise<InvalidArgumentError> {
    const error = await promise.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    if (!InvalidArgumentError.isInstance(error))
      throw new Error(`expected InvalidArgumentError, got ${error}`);
    return error;
  }

  it.each(["json", "jsonl", "csv"] as const)(
    "%s export into a missing folder names the path, keeps the system error as cause, leaves nothing",
    async (format) => {
      const path = join(directory, "no-such-folder", `out.${format}`);
      const error = await rejection(dataset(3)[methods[format]](path));
      expect(error.field).toBe("path");
      expect(error.value).toBe(path);
      expect(error.message).toContain(path);
      expect(error.message).toContain("does not exist");
      expect(error.message).not.toContain(".tmp");
      expect((error.cause as { code?: string }).code).toBe("ENOENT");
      expect(await temporaryFiles()).toEqual([]);
    },
  );

  it.each(["json", "jsonl", "csv"] as const)(
    "%s export onto a folder names the path and leaves the folder as it was",
    async (format) => {
      const path = join(directory, `folder-${format}`);
      await mkdir(path);
      const error = await rejection(dataset(3)[methods[format]](path));
      expect(error.field).toBe("path");
      expect(error.message).toContain(path);
      expect(error.message).toContain("is a folder");
      expect((error.cause as { code?: string }).code).toBe("EISDIR");
      expect(await readdir(path)).toEqual([]);
      expect(await temporaryFiles()).toEqual([]);
    },
  );

  it.each(["json", "jsonl", "csv"] as const)("%s import of a missing file names the path", async (format) => {
    const path = join(directory, `missing.${format}`);
    const error = await rejection(TrajectoryDataset[readers[format]](path));
    expect(error.field).toBe("path");
    expect(error.message).toBe(`Cannot read ${JSON.stringify(path)}: no such file`);
    expect((error.cause as { code?: string }).code).toBe("ENOENT");
  });
});
