import { randomUUID } from "node:crypto";
import { type FileHandle, open, rename, stat, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/** Bytes per buffer; two of them alternate so that one is filled while the other is being written. */
const BUFFER_BYTES = 4 * 1024 * 1024;
/** Once this much is buffered, {@link AtomicTextWriter.append} asks the caller to drain. */
const HIGH_WATER_BYTES = BUFFER_BYTES / 2;
/**
 * After this many bytes are handed over, a background fdatasync starts (if none is running), so the disk
 * flushes while later records are serialised instead of all at once in the final fsync.
 */
const SYNC_EVERY_BYTES = 64 * 1024 * 1024;

function ignore(): void {}

async function writeFully(handle: FileHandle, chunk: Buffer): Promise<void> {
  let offset = 0;
  while (offset < chunk.length) {
    const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset);
    offset += bytesWritten;
  }
}

/** Flushes a directory entry (a rename or a new file) to disk; some platforms cannot, which is fine. */
export async function syncDirectory(directory: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(directory, "r");
    await handle.sync();
  } catch {
    // Windows cannot open a directory; the rename is still atomic there.
  } finally {
    await handle?.close().catch(ignore);
  }
}

/**
 * Writes a text file atomically and in bounded memory: the text goes to a temporary file next to the target
 * (same folder, so the final rename cannot cross file systems), which is fsynced and then renamed over the
 * target. Until {@link commit} succeeds the target is untouched; {@link abort} removes the temporary file.
 *
 * Appends are synchronous copies into a 4 MiB buffer; the caller awaits {@link drain} only when `append`
 * returns true, so there is one promise per few thousand records, not per record. Writing of one buffer
 * overlaps with filling the other.
 *
 * @example
 * ```ts
 * const writer = await AtomicTextWriter.create("out.jsonl");
 * try {
 *   for (const line of lines) if (writer.append(line)) await writer.drain();
 *   await writer.commit();
 * } catch (error) {
 *   await writer.abort();
 *   throw error;
 * }
 * ```
 */
export class AtomicTextWriter {
  readonly target: string;
  readonly temporary: string;
  #handle: FileHandle;
  /** The buffer being filled. */
  #buffer = Buffer.allocUnsafe(BUFFER_BYTES);
  /** The other buffer: being written, or free once that write is settled. */
  #spare = Buffer.allocUnsafe(BUFFER_BYTES);
  #used = 0;
  #overflow: Buffer[] = [];
  #inFlight: Promise<void> | undefined;
  #syncing: Promise<void> | undefined;
  #unsynced = 0;
  #bytes = 0;
  #done = false;

  private constructor(target: string, temporary: string, handle: FileHandle) {
    this.target = target;
    this.temporary = temporary;
    this.#handle = handle;
  }

  /**
   * Creates the temporary file next to `target`. A target that is a folder is refused here (with the `EISDIR`
   * error the final rename would give), before anything is written.
   */
  static async create(target: string): Promise<AtomicTextWriter> {
    const existing = await stat(target).catch(() => undefined);
    if (existing?.isDirectory()) {
      throw Object.assign(new Error(`EISDIR: illegal operation on a directory, open '${target}'`), {
        code: "EISDIR",
        syscall: "open",
        path: target,
      });
    }
    const temporary = join(
      dirname(target),
      `.${basename(target)}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`,
    );
    const handle = await open(temporary, "wx");
    return new AtomicTextWriter(target, temporary, handle);
  }

  /**
   * Writes `path` atomically: `fill` appends to a new writer, which is then committed; if `fill` or the commit
   * fails, the temporary file is removed and the error rethrown (the target is untouched).
   *
   * @returns the number of bytes written
   */
  static async write(path: string, fill: (writer: AtomicTextWriter) => Promise<void>): Promise<number> {
    const writer = await AtomicTextWriter.create(path);
    try {
      await fill(writer);
      await writer.commit();
    } catch (error) {
      await writer.abort();
      throw error;
    }
    return writer.bytes;
  }

  /** Bytes written so far (committed or buffered). */
  get bytes(): number {
    return this.#bytes + this.#used + this.#overflow.reduce((sum, chunk) => sum + chunk.length, 0);
  }

  /**
   * Buffers `text` (UTF-8) followed by `asciiSuffix` (e.g. `"\n"`); returns true when the caller should
   * `await drain()` before appending more. The suffix is copied byte by byte: concatenating it to a long text
   * first would make V8 allocate and copy a flat string per record.
   */
  append(text: string, asciiSuffix = ""): boolean {
    // A UTF-16 code unit never takes more than 3 bytes in UTF-8.
    if (this.#overflow.length === 0 && text.length * 3 + asciiSuffix.length <= BUFFER_BYTES - this.#used) {
      const buffer = this.#buffer;
      let used = this.#used + buffer.write(text, this.#used, "utf8");
      for (let index = 0; index < asciiSuffix.length; index++) buffer[used++] = asciiSuffix.charCodeAt(index);
      this.#used = used;
    } else {
      this.#overflow.push(Buffer.from(text + asciiSuffix, "utf8"));
    }
    return this.#used >= HIGH_WATER_BYTES || this.#overflow.length > 0;
  }

  /** Hands the buffered bytes to the file system (waiting for the previous hand-over first). */
  async drain(): Promise<void> {
    await this.#settle();
    if (this.#used === 0 && this.#overflow.length === 0) return;
    const chunks = [this.#buffer.subarray(0, this.#used), ...this.#overflow];
    for (const chunk of chunks) {
      this.#bytes += chunk.length;
      this.#unsynced += chunk.length;
    }
    const handle = this.#handle;
    if (this.#unsynced >= SYNC_EVERY_BYTES && this.#syncing === undefined) {
      // Flush what is written so far while the caller goes on; the final commit waits for it. A failed sync
      // stays in #syncing so that commit rethrows it: the kernel reports a write-back error only once.
      this.#unsynced = 0;
      const syncing = handle.datasync().then(() => {
        if (this.#syncing === syncing) this.#syncing = undefined;
      });
      syncing.catch(ignore);
      this.#syncing = syncing;
    }
    const writing = (async () => {
      for (const chunk of chunks) await writeFully(handle, chunk);
    })();
    // Mark it handled now; its error is rethrown when it is awaited by the next drain or commit.
    writing.catch(ignore);
    this.#inFlight = writing;
    [this.#buffer, this.#spare] = [this.#spare, this.#buffer];
    this.#used = 0;
    this.#overflow = [];
  }

  async #settle(): Promise<void> {
    const inFlight = this.#inFlight;
    this.#inFlight = undefined;
    if (inFlight) await inFlight;
  }

  /** Writes what is left, fsyncs, closes and renames the temporary file over the target. */
  async commit(): Promise<void> {
    await this.drain();
    await this.#settle();
    await this.#syncing;
    await this.#handle.sync();
    await this.#handle.close();
    this.#done = true;
    await rename(this.temporary, this.target);
    await syncDirectory(dirname(this.target));
  }

  /** Discards the temporary file; the target keeps its previous content (or stays absent). */
  async abort(): Promise<void> {
    await this.#settle().catch(ignore);
    await this.#syncing?.catch(ignore);
    if (!this.#done) {
      this.#done = true;
      await this.#handle.close().catch(ignore);
    }
    await unlink(this.temporary).catch(ignore);
  }
}
