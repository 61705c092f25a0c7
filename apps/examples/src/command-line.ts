import { access } from "node:fs/promises";
import { OrbiterError } from "@orbiter/types";

/** Whether a file or folder exists at `path`. */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs a command's `main`, printing a failure as one message instead of rethrowing it (an uncaught error would
 * also dump the wasm backend's module source): our typed errors by their message, anything else with its stack.
 */
export async function runCommand(name: string, main: () => Promise<unknown>): Promise<void> {
  try {
    const code = await main();
    if (typeof code === "number") process.exitCode = code;
  } catch (error) {
    const message = OrbiterError.isInstance(error)
      ? error.message
      : error instanceof Error
        ? (error.stack ?? error.message)
        : String(error);
    process.stderr.write(`${name} failed: ${message}\n`);
    process.exitCode = 1;
  }
}
