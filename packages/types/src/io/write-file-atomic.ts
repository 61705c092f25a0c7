import { randomBytes } from "node:crypto";
import { open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { CheckpointError } from "../errors/error-kinds.js";
import { messageOf } from "../errors/message-of.js";

/** A name next to `path` that no other writer uses: `.name.tmp-<pid>-<random>`. */
export function temporarySibling(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(6).toString("hex")}`);
}

/**
 * Flushes a folder's entries to disk, so that a rename inside it survives a crash. Platforms that cannot open a
 * folder (Windows) skip it.
 */
export async function fsyncDirectory(dir: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(dir, "r");
    await handle.sync();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "EISDIR" && code !== "EPERM" && code !== "EINVAL" && code !== "EBADF") throw error;
  } finally {
    await handle?.close();
  }
}

/**
 * Writes `data` to `path` so that readers see either the old file or the whole new one, never a torn write:
 * the data goes to a temporary sibling, is flushed with fsync, renamed over `path`, and the folder is flushed.
 * The folder must exist. A failure removes the temporary file and throws a `CheckpointError` naming `path`.
 *
 * @example
 * ```ts
 * await writeFileAtomic("/tmp/run/state.json", JSON.stringify(state));
 * ```
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const temporary = temporarySibling(path);
  try {
    const handle = await open(temporary, "wx");
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
    await fsyncDirectory(dirname(path));
  } catch (error) {
    await rm(temporary, { force: true });
    throw new CheckpointError(`Could not write ${path}: ${messageOf(error)}`, { path, cause: error });
  }
}
