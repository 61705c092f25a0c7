import { mkdtemp, open, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { AtomicTextWriter } from "./atomic-text-writer.js";

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), "orbiter-trajectory-writer-"));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe("AtomicTextWriter", () => {
  it("fails the commit when a background sync failed, and leaves the target untouched", async () => {
    const probe = await open(join(directory, "probe"), "w");
    const fileHandle = Object.getPrototypeOf(probe) as { datasync(): Promise<void> };
    await probe.close();
    const datasync = vi.spyOn(fileHandle, "datasync").mockRejectedValue(new Error("EIO: write-back failed"));
    try {
      const path = join(directory, "out.txt");
      await writeFile(path, "previous\n");
      const writer = await AtomicTextWriter.create(path);
      const megabyte = "x".repeat(1024 * 1024);
      // More than 64 MiB start one background sync, which fails before commit.
      for (let index = 0; index < 65; index++) if (writer.append(megabyte, "\n")) await writer.drain();
      await writer.drain();
      await new Promise((resolve) => setImmediate(resolve));
      expect(datasync).toHaveBeenCalledTimes(1);
      await expect(writer.commit()).rejects.toThrow("EIO");
      await writer.abort();
      expect(await readFile(path, "utf8")).toBe("previous\n");
      expect(await readdir(directory)).toEqual(["out.txt", "probe"]);
    } finally {
      datasync.mockRestore();
    }
  });
});
