import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { JsonlSink } from "./jsonl-sink.js";

const disk = vi.hoisted(() => ({ full: false }));
vi.mock("node:fs", async (importOriginal) => {
  const fs = await importOriginal<typeof import("node:fs")>();
  return {
    ...fs,
    writeSync: (...args: Parameters<typeof fs.writeSync>) => {
      if (disk.full) throw Object.assign(new Error("ENOSPC: no space left on device"), { code: "ENOSPC" });
      return fs.writeSync(...args);
    },
  };
});

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), "orbiter-trajectory-sink-failure-"));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

const item = { id: "a", timestamp: 0, state: "s", action: "a", reward: 1, metadata: {} };

/** What `action` throws while the disk is full (undefined when it does not throw). */
function errorWhileDiskFull(action: () => void): unknown {
  disk.full = true;
  try {
    action();
  } catch (caught) {
    return caught;
  } finally {
    disk.full = false;
  }
  return undefined;
}

describe("JsonlSink write failures", () => {
  it("close reports a timed flush that failed unnoticed, once", async () => {
    const sink = new JsonlSink(join(directory, "timer.jsonl"), { flushIntervalMs: 5 });
    sink.append(item);
    disk.full = true;
    try {
      await vi.waitFor(() => expect(() => sink.append(item)).toThrow(/failed earlier/), {
        timeout: 1000,
      });
    } finally {
      disk.full = false;
    }
    // That append reported the failure, so close does not throw it again.
    expect(() => sink.close()).not.toThrow();
  });

  it("close throws when nothing reported the failed timed flush", async () => {
    const sink = new JsonlSink(join(directory, "silent.jsonl"), { flushIntervalMs: 5 });
    sink.append(item);
    disk.full = true;
    try {
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      disk.full = false;
    }
    expect(() => sink.close()).toThrow(
      expect.objectContaining({ name: "InvalidStateError", state: "failed" }),
    );
    expect(sink.closed).toBe(true);
    expect(() => sink.close()).not.toThrow();
  });

  it("a failed batch flush says which items it lost and keeps their lines", () => {
    const sink = new JsonlSink(join(directory, "batch.jsonl"), { batchSize: 100, flushIntervalMs: 0 });
    sink.append({ ...item, id: "first" });
    sink.flush();
    for (const id of ["a", "b", "c"]) sink.append({ ...item, id });
    const error = errorWhileDiskFull(() => sink.flush());
    expect(error).toMatchObject({ name: "InvalidStateError", state: "failed" });
    expect((error as Error).message).toContain('items 2 to 4 of this sink (ids "a" to "c")');
    expect(((error as Error).cause as { code?: string }).code).toBe("ENOSPC");
    expect(sink.unwritten?.first).toBe(2);
    expect(sink.unwritten?.ids).toEqual(["a", "b", "c"]);
    expect(sink.unwritten?.lines.map((line) => JSON.parse(line).id)).toEqual(["a", "b", "c"]);
    expect(() => sink.append(item)).toThrow(/failed earlier/);
    sink.close();
  });
});

describe("JsonlSink.writeBuffered failures", () => {
  it("names the items a failed write may have lost, keeps their lines, and refuses further appends", () => {
    const sink = new JsonlSink(join(directory, "written.jsonl"), { batchSize: 100, flushIntervalMs: 0 });
    sink.append({ ...item, id: "kept" });
    sink.writeBuffered();
    for (const id of ["x", "y"]) sink.append({ ...item, id });
    const error = errorWhileDiskFull(() => sink.writeBuffered());
    expect(error).toMatchObject({ name: "InvalidStateError", state: "failed" });
    // "kept" was written but not fdatasynced: it counts as not known to be on disk.
    expect(sink.unwritten?.ids).toEqual(["kept", "x", "y"]);
    expect(sink.unwritten?.first).toBe(1);
    expect(() => sink.append(item)).toThrow(/failed earlier/);
    sink.close();
  });
});

describe("JsonlSink on an unusable path", () => {
  it("names the path the user gave, with the system error as cause", () => {
    for (const [path, code, reason] of [
      [join(directory, "no-such-folder", "run.jsonl"), "ENOENT", "does not exist"],
      [directory, "EISDIR", "is a folder"],
    ] as const) {
      let error: unknown;
      try {
        new JsonlSink(path);
      } catch (caught) {
        error = caught;
      }
      expect(error).toMatchObject({ name: "InvalidArgumentError", field: "path", value: path });
      expect((error as Error).message).toContain(reason);
      expect(((error as Error).cause as { code?: string }).code).toBe(code);
    }
  });
});
