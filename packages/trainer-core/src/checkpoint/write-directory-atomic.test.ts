import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { captureError } from "@orbiter/test-support";
import { CheckpointError, writeFileAtomic } from "@orbiter/types";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { writeDirectoryAtomic } from "./write-directory-atomic.js";

// writeFileAtomic itself is tested where it lives, in @orbiter/types (src/io/write-file-atomic.test.ts).
describe("writeDirectoryAtomic", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "atomic-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("builds a folder (with sub-folders) and swaps it in whole, returning fill's result", async () => {
    const target = join(dir, "nested", "ckpt");
    const result = await writeDirectoryAtomic(target, async (temporary) => {
      expect(temporary).not.toBe(target);
      await writeFileAtomic(join(temporary, "a.txt"), "A");
      await mkdir(join(temporary, "sub"));
      await writeFileAtomic(join(temporary, "sub", "b.txt"), "B");
      return 42;
    });
    expect(result).toBe(42);
    expect(await readFile(join(target, "sub", "b.txt"), "utf8")).toBe("B");
    await writeDirectoryAtomic(target, async (temporary) => {
      await writeFileAtomic(join(temporary, "c.txt"), "C");
    });
    expect(await readdir(target)).toEqual(["c.txt"]);
    expect(await readdir(join(dir, "nested"))).toEqual(["ckpt"]);
  });

  it("keeps the old folder and removes the temporary one when fill throws", async () => {
    const target = join(dir, "ckpt");
    await writeDirectoryAtomic(target, (temporary) => writeFileAtomic(join(temporary, "old.txt"), "old"));
    const caught = await captureError(
      writeDirectoryAtomic(target, async (temporary) => {
        await writeFileAtomic(join(temporary, "new.txt"), "new");
        throw new Error("crash halfway");
      }),
    );
    expect(CheckpointError.isInstance(caught)).toBe(true);
    expect(((caught as CheckpointError).cause as Error).message).toBe("crash halfway");
    expect(await readdir(dir)).toEqual(["ckpt"]);
    expect(await readdir(target)).toEqual(["old.txt"]);
  });

  it("refuses to replace a file, or a folder of other files, with a checkpoint folder", async () => {
    const file = join(dir, "notes.txt");
    await writeFile(file, "precious");
    const folder = join(dir, "mine");
    await mkdir(folder);
    await writeFile(join(folder, "data.csv"), "a,b");
    for (const target of [file, folder]) {
      const caught = await captureError(
        writeDirectoryAtomic(target, (temporary) => writeFileAtomic(join(temporary, "state.json"), "{}"), {
          replaces: "state.json",
        }),
      );
      expect(CheckpointError.isInstance(caught) && caught.path).toBe(target);
    }
    expect(await readFile(file, "utf8")).toBe("precious");
    expect(await readdir(folder)).toEqual(["data.csv"]);
    expect((await readdir(dir)).sort()).toEqual(["mine", "notes.txt"]);
  });

  it("replaces an empty folder, or one holding the marker file of an earlier write", async () => {
    const target = join(dir, "ckpt");
    await mkdir(target);
    const write = (name: string) =>
      writeDirectoryAtomic(
        target,
        async (temporary) => {
          await writeFileAtomic(join(temporary, "state.json"), "{}");
          await writeFileAtomic(join(temporary, name), name);
        },
        { replaces: "state.json" },
      );
    await write("first.bin");
    await write("second.bin");
    expect((await readdir(target)).sort()).toEqual(["second.bin", "state.json"]);
  });
});
