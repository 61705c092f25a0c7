import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CheckpointError } from "../errors/error-kinds.js";
import { temporarySibling, writeFileAtomic } from "./write-file-atomic.js";

describe("writeFileAtomic", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "types-atomic-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("writes and replaces a file whole, leaving no temporary file", async () => {
    const path = join(dir, "state.json");
    await writeFileAtomic(path, "first");
    await writeFileAtomic(path, new TextEncoder().encode("second"));
    expect(await readFile(path, "utf8")).toBe("second");
    expect(await readdir(dir)).toEqual(["state.json"]);
  });

  it("fails with a CheckpointError naming the path when the folder is missing, and cleans up", async () => {
    const path = join(dir, "missing", "state.json");
    await expect(writeFileAtomic(path, "x")).rejects.toThrow(CheckpointError);
    await expect(writeFileAtomic(path, "x")).rejects.toThrow(expect.objectContaining({ path }));
    expect(await readdir(dir)).toEqual([]);
  });

  it("names temporary siblings uniquely, hidden next to the target", () => {
    const a = temporarySibling(join(dir, "weights.bin"));
    const b = temporarySibling(join(dir, "weights.bin"));
    expect(a).not.toBe(b);
    expect(a.startsWith(join(dir, ".weights.bin.tmp-"))).toBe(true);
  });
});
