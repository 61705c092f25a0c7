import { mkdir, open, readdir, rename, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { CheckpointError, fsyncDirectory, messageOf, temporarySibling } from "@orbiter/types";

async function fsyncTree(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      await fsyncTree(path);
    } else if (entry.isFile()) {
      const handle = await open(path, "r");
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    }
  }
  await fsyncDirectory(dir);
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Options of {@link writeDirectoryAtomic}. */
export interface WriteDirectoryAtomicOptions {
  /**
   * A file name that marks a folder this writer made: an existing non-empty `dir` is replaced only if it holds
   * this file, so a folder of someone else's files is never deleted. @default none (any folder is replaced)
   */
  replaces?: string;
}

/** Throws unless `dir` is absent, a folder marked by `replaces`, or an empty folder; never deletes anything. */
async function checkReplaceable(dir: string, replaces: string | undefined): Promise<void> {
  let found: Awaited<ReturnType<typeof stat>>;
  try {
    found = await stat(dir);
  } catch {
    return;
  }
  if (!found.isDirectory()) {
    throw new CheckpointError(`Cannot write checkpoint ${dir}: a file of that name exists`, { path: dir });
  }
  if (replaces === undefined) return;
  const entries = await readdir(dir);
  if (entries.length > 0 && !entries.includes(replaces)) {
    throw new CheckpointError(
      `Cannot write checkpoint ${dir}: the folder holds other files (no ${replaces}); choose an empty or new folder`,
      { path: dir },
    );
  }
}

/**
 * Builds a folder atomically: `fill` writes into a fresh temporary sibling of `dir`, every file in it is flushed
 * with fsync, and the temporary folder is renamed to `dir` (an existing `dir` is moved aside first and removed
 * after). Readers see the old folder or the complete new one; a crash leaves at most a hidden `.tmp-` folder.
 * A failure removes the temporary folder and throws a `CheckpointError`. A file at `dir` is never replaced, nor
 * (with `options.replaces`) a non-empty folder without the marker file: both throw before anything is written.
 *
 * @returns what `fill` returned
 */
export async function writeDirectoryAtomic<T>(
  dir: string,
  fill: (temporaryDir: string) => Promise<T>,
  options: WriteDirectoryAtomicOptions = {},
): Promise<T> {
  await checkReplaceable(dir, options.replaces);
  const parent = dirname(dir);
  const temporary = temporarySibling(dir);
  let result: T;
  try {
    await mkdir(parent, { recursive: true });
    await mkdir(temporary);
    result = await fill(temporary);
    await fsyncTree(temporary);
  } catch (error) {
    await rm(temporary, { recursive: true, force: true });
    if (CheckpointError.isInstance(error)) throw error;
    throw new CheckpointError(`Could not write checkpoint ${dir}: ${messageOf(error)}`, {
      path: dir,
      cause: error,
    });
  }
  const previous = (await exists(dir)) ? `${temporary}.old` : undefined;
  try {
    if (previous) await rename(dir, previous);
    await rename(temporary, dir);
    await fsyncDirectory(parent);
  } catch (error) {
    // Put the previous folder back if the swap did not complete.
    if (previous && !(await exists(dir)) && (await exists(previous))) await rename(previous, dir);
    await rm(temporary, { recursive: true, force: true });
    throw new CheckpointError(`Could not replace checkpoint ${dir}: ${messageOf(error)}`, {
      path: dir,
      cause: error,
    });
  }
  if (previous) await rm(previous, { recursive: true, force: true });
  return result;
}
