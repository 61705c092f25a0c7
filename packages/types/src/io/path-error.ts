import { dirname } from "node:path";
import { InvalidArgumentError } from "../errors/error-kinds.js";

/** What was being done with the path, for the message. */
export type PathAction = "export to" | "read" | "append to" | "write to";

/** Why a system error code means the path itself is unusable, in words a user can act on. */
function reasonOf(code: string, path: string, action: PathAction): string | undefined {
  switch (code) {
    case "ENOENT":
      return action === "read"
        ? "no such file"
        : `the folder ${JSON.stringify(dirname(path))} does not exist`;
    case "ENOTDIR":
    case "EEXIST": // from creating the folders of the path: one of them is a file
      return "a part of the path is a file, not a folder";
    case "EISDIR":
      return "it is a folder, not a file";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "ENAMETOOLONG":
      return "the name is too long";
    case "ELOOP":
      return "too many symbolic links";
    default:
      return undefined;
  }
}

/**
 * Turns a system error about `path` (a missing folder or file, a folder where a file was expected, no
 * permission) into an `InvalidArgumentError` naming the path the user gave, with the system error as `cause`
 * (its message names internal temporary files). Any other error is returned as it is.
 */
export function pathError(error: unknown, path: string, action: PathAction, field = "path"): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== "string" || (error as { syscall?: unknown }).syscall === undefined) return error;
  const reason = reasonOf(code, path, action);
  if (reason === undefined) return error;
  return new InvalidArgumentError(`Cannot ${action} ${JSON.stringify(path)}: ${reason}`, {
    field,
    value: path,
    cause: error,
  });
}

/** Runs a file operation on `path`, reporting an unusable path with {@link pathError} (naming `field`). */
export async function onPath<T>(
  path: string,
  action: PathAction,
  operation: () => Promise<T>,
  field = "path",
): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw pathError(error, path, action, field);
  }
}
