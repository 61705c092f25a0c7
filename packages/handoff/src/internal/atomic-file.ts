import { createHash, type Hash } from "node:crypto";
import { type FileHandle, open, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { fsyncDirectory, onPath, pathError, temporarySibling } from "@orbiter/types";

/** Bytes buffered before they are handed to the file system. */
const FLUSH_BYTES = 1 << 20;

/**
 * A file written in bounded memory and published atomically: bytes go to a temporary sibling of the target,
 * which is fsynced and renamed over the target by {@link commit}. Until then the target is untouched;
 * {@link abort} removes the temporary file. Writes are serialised, so callers may await them or not.
 */
export class AtomicFile {
  readonly target: string;
  readonly temporary: string;
  #handle: FileHandle;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #written = 0;
  #chain: Promise<void> = Promise.resolve();
  #closed = false;
  #hash: Hash = createHash("sha256");

  private constructor(target: string, temporary: string, handle: FileHandle) {
    this.target = target;
    this.temporary = temporary;
    this.#handle = handle;
  }

  /** Creates the temporary file next to `target` (the folder must exist). */
  static async create(target: string): Promise<AtomicFile> {
    const temporary = temporarySibling(target);
    return new AtomicFile(target, temporary, await open(temporary, "wx"));
  }

  /** Bytes written so far, buffered ones included. */
  get bytes(): number {
    return this.#written + this.#pendingBytes;
  }

  /** Hex SHA-256 of every byte written so far. */
  sha256(): string {
    return this.#hash.copy().digest("hex");
  }

  /** Buffers `text` as UTF-8; resolves once it is safe to buffer more (the buffer is flushed when full). */
  async write(text: string): Promise<void> {
    await this.writeBytes(Buffer.from(text, "utf8"));
  }

  /** Buffers raw bytes (copied); flushes when the buffer is full. */
  async writeBytes(bytes: Uint8Array): Promise<void> {
    const copy = Buffer.from(bytes);
    this.#hash.update(copy);
    this.#pending.push(copy);
    this.#pendingBytes += bytes.length;
    if (this.#pendingBytes >= FLUSH_BYTES) await this.flush();
  }

  /** Hands every buffered byte to the file system. */
  async flush(): Promise<void> {
    if (this.#pendingBytes === 0) return this.#chain;
    const chunk = Buffer.concat(this.#pending, this.#pendingBytes);
    this.#pending = [];
    this.#written += this.#pendingBytes;
    this.#pendingBytes = 0;
    const handle = this.#handle;
    this.#chain = this.#chain.then(async () => {
      let offset = 0;
      while (offset < chunk.length) {
        const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset);
        offset += bytesWritten;
      }
    });
    return this.#chain;
  }

  /** Writes what is left, fsyncs, and renames the temporary file over the target. */
  async commit(): Promise<void> {
    await this.flush();
    await this.#handle.sync();
    this.#closed = true;
    await this.#handle.close();
    await rename(this.temporary, this.target);
    await fsyncDirectory(dirname(this.target));
  }

  /** Removes the temporary file; the target keeps its previous content (or stays absent). */
  async abort(): Promise<void> {
    await this.#chain.catch(() => undefined);
    if (!this.#closed) {
      this.#closed = true;
      await this.#handle.close().catch(() => undefined);
    }
    await rm(this.temporary, { force: true });
  }
}

/**
 * Runs `fill` against a fresh {@link AtomicFile} for `path`, commits it, and returns what `fill` returned. If
 * `fill` throws, the temporary file is removed and the error is rethrown unchanged (so a typed validation error
 * stays typed), and nothing is left at `path`. A path that cannot be written is an `InvalidArgumentError` naming
 * it (`field: "path"`).
 */
export async function writeAtomically<T>(path: string, fill: (file: AtomicFile) => Promise<T>): Promise<T> {
  // A path that cannot be written (a folder, a missing folder, a file in the way) is named as the caller gave it,
  // not by the temporary file's name in the system error.
  const file = await onPath(path, "write to", () => AtomicFile.create(path));
  let result: T;
  try {
    result = await fill(file);
  } catch (error) {
    await file.abort();
    throw error;
  }
  try {
    await file.commit();
  } catch (error) {
    await file.abort();
    throw pathError(error, path, "write to");
  }
  return result;
}
