import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { SynthesisPipeline } from "./synthesis-pipeline.js";

const sync = vi.hoisted(() => ({ failWith: undefined as string | undefined }));
vi.mock("node:fs", async (importOriginal) => {
  const fs = await importOriginal<typeof import("node:fs")>();
  return {
    ...fs,
    fdatasyncSync: (fd: number) => {
      if (sync.failWith)
        throw Object.assign(new Error(`${sync.failWith}: fdatasync`), { code: sync.failWith });
      fs.fdatasyncSync(fd);
    },
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
});

describe("durable checkpoint", () => {
  it("fails the run when the disk flush fails", async () => {
    sync.failWith = "EIO";
    await expect(run()).rejects.toMatchObject({ name: "CheckpointError" });
  });

  it("goes on where the file system cannot flush", async () => {
    sync.failWith = "EINVAL";
    expect((await run()).items).toHaveLength(2);
  });
});
