import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CheckpointError } from "@orbiter/types";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MODEL_FILE, readModelCheckpoint, writeModelCheckpoint } from "./model-checkpoint.js";

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "model-checkpoint-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const weights = new Map([["w", { shape: [2], data: new Float32Array([1.5, -2]) }]]);

describe("writeModelCheckpoint", () => {
  it("writes beside other files and reads back the same weights", async () => {
    const target = join(dir, "mine");
    await writeModelCheckpoint(target, weights, { note: "x" });
    await writeFile(join(target, "notes.txt"), "kept");
    await writeModelCheckpoint(target, weights, { note: "y" });
    expect((await readdir(target)).sort()).toEqual([MODEL_FILE, "notes.txt"]);
    const read = await readModelCheckpoint(target);
    expect([...(read.weights.get("w")?.data ?? [])]).toEqual([1.5, -2]);
    expect(read.metadata.note).toBe("y");
  });

  it("throws a CheckpointError naming the directory when a file stands in its way", async () => {
    const file = join(dir, "a-file");
    await writeFile(file, "not a folder");
    for (const target of [file, join(file, "inside")]) {
      const error = await writeModelCheckpoint(target, weights, {}).catch((caught: unknown) => caught);
      expect(CheckpointError.isInstance(error), String(error)).toBe(true);
      expect((error as CheckpointError).path).toBe(target);
    }
  });
});
