import { randomBytes } from "node:crypto";
import { mkdir, open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { CheckpointError } from "@orbiter/types";

/**
 * Writes `value` as JSON to `path` atomically: a temporary sibling is written and flushed (fsync), renamed over
 * `path`, and the folder is flushed. Readers see the old file or the whole new one. The folder is created.
 */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const dir = dirname(path);
  const temporary = join(dir, `.${basename(path)}.tmp-${process.pid}-${randomBytes(6).toString("hex")}`);
  try {
    await mkdir(dir, { recursive: true });
    const handle = await open(temporary, "wx");
    try {
      await handle.writeFile(`${JSON.stringify(value)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
    try {
      const folder = await open(dir, "r");
      try {
        await folder.sync();
      } finally {
        await folder.close();
      }
    } catch {
      // Some platforms cannot flush a folder; the rename is still atomic.
    }
  } catch (error) {
    await rm(temporary, { force: true });
    throw new CheckpointError(`Could not write ${path}: ${(error as Error).message}`, { path, cause: error });
  }
}
