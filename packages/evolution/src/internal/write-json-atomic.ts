import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { CheckpointError, messageOf, writeFileAtomic } from "@orbiter/types";

/**
 * Writes `value` as one line of JSON to `path` atomically (`writeFileAtomic` of @orbiter/types: a flushed
 * temporary sibling renamed over `path`), creating the folder first. Failures are `CheckpointError`s naming `path`.
 */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  try {
    await mkdir(dirname(path), { recursive: true });
  } catch (error) {
    throw new CheckpointError(`Could not write ${path}: ${messageOf(error)}`, { path, cause: error });
  }
  await writeFileAtomic(path, `${JSON.stringify(value)}\n`);
}
