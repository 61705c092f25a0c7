import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { SynthesisPipeline } from "./synthesis-pipeline.js";

const sync = vi.hoisted(() => ({ failWith: undefined as string | undefined, shortWrites: false }));
vi.mock("node:fs", async (importOriginal) => {
  const fs = await importOriginal<typeof import("node:fs")>();
  return {
    ...fs,
    fdatasyncSync: (fd: number) => {
      if (sync.failWith)
        throw Object.assign(new Error(`${sync.failWith}: fdatasync`), { code: sync.failWith });
      fs.fdatasyncSync(fd);
    },
    // With shortWrites, a buffer write takes at most 7 bytes per call, as a write may.
    writeSync: (fd: number, data: Buffer, offset = 0) =>
      sync.shortWrites
        ? fs.writeSync(fd, data, offset, Math.min(7, data.length - offset))
        : fs.writeSync(fd, data, offset),
  };
});

const directory = mkdtempSync(join(tmpdir(), "orbiter-synthesis-checkpoint-sync-"));
let counter = 0;
const run = () =>
  new SynthesisPipeline({
    checkpoint: join(directory, `run-${counter++}.jsonl`),
    durableCheckpoint: true,
    config: { targetSize: 2 },
  })
    .addStep({ name: "one", synthesise: () => [{ input: "a", output: "b" }] })
    .run([{ input: "x", output: "y" }]);

afterEach(() => {
  sync.failWith = undefined;
  sync.shortWrites = false;
});

describe("durable checkpoint", () => {
  it("fails the run when the disk flush fails", async () => {
    sync.failWith = "EIO";
    await expect(run()).rejects.toMatchObject({ name: "CheckpointError" });
  });

  it("writes whole lines when a write takes only part of them", async () => {
    sync.shortWrites = true;
    const path = join(directory, "short.jsonl");
    const pipeline = () =>
      new SynthesisPipeline({ checkpoint: path, config: { targetSize: 2 } })
        .addStep({ name: "one", synthesise: () => [{ input: "a", output: "b" }] })
        .run([{ input: "x", output: "y" }]);
    const first = await pipeline();
    const lines = readFileSync(path, "utf8").trimEnd().split("\n");
    expect(lines.map((line) => JSON.parse(line).kind)).toEqual([
      "header",
      "sample",
      "marker",
      "sample",
      "marker",
    ]);
    const again = await pipeline();
    expect(again.resumed).toBe(true);
    expect(again.items).toEqual(first.items);
  });

  it("goes on where the file system cannot flush", async () => {
    sync.failWith = "EINVAL";
    expect((await run()).items).toHaveLength(2);
  });
});
