import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { JsonlSink, type TrajectorySink } from "@orbiter/trajectory";
import { type ChatModel, TrajectoryItem } from "@orbiter/types";
import { describe, expect, it, vi } from "vitest";
import { startGateway } from "../index.js";
import { readRecords, temporaryFolder } from "../test-support/fixtures.js";
import { GroupCommit } from "./group-commit.js";

const item = (index: number) => TrajectoryItem.parse({ id: `i${index}`, state: "s", action: "a", reward: 0 });

/** A sink whose flush takes `ms` and counts what each flush covered. */
function slowSink(ms: number) {
  const appended: string[] = [];
  const flushed: number[] = [];
  let covered = 0;
  const sink: TrajectorySink = {
    append: (entry) => {
      appended.push(entry.id);
    },
    flush: async () => {
      const upTo = appended.length;
      await new Promise((resolve) => setTimeout(resolve, ms));
      flushed.push(upTo - covered);
      covered = upTo;
    },
  };
  return { sink, appended, flushed };
}

describe("GroupCommit", () => {
  it("covers every item appended while a flush runs with the next single flush", async () => {
    const { sink, flushed } = slowSink(20);
    const commit = new GroupCommit(sink);
    const first = commit.append(item(0));
    await new Promise((resolve) => setTimeout(resolve, 5)); // the first flush is running
    const rest = Array.from({ length: 99 }, (_, index) => commit.append(item(index + 1)));
    await Promise.all([first, ...rest]);
    expect(flushed).toEqual([1, 99]);
    expect(commit.flushes).toBe(2);
    await commit.drain();
  });

  it("rejects the appends of a group whose flush failed, and goes on with the next group", async () => {
    let fail = true;
    const sink: TrajectorySink = {
      append: () => {},
      flush: async () => {
        if (fail) {
          fail = false;
          throw new Error("disk full");
        }
      },
    };
    const commit = new GroupCommit(sink);
    await expect(commit.append(item(0))).rejects.toThrow("disk full");
    await expect(commit.append(item(1))).resolves.toBeUndefined();
  });
});

/** Lines in the file now (the test reads through its own descriptor: what the kernel holds). */
const linesIn = async (path: string) =>
  (await readFile(path, "utf8").catch(() => "")).split("\n").filter(Boolean).length;

describe('GroupCommit "written"', () => {
  it("resolves once the line is in the file, one write for every append of the same turn, disk flush later", async () => {
    const folder = await temporaryFolder("written");
    const path = join(folder.path, "written.jsonl");
    const sink = new JsonlSink(path, { fsync: "batch", flushIntervalMs: 0 });
    const commit = new GroupCommit(sink, { durability: "written", syncIntervalMs: 20 });
    const appends = Array.from({ length: 50 }, (_, index) => commit.append(item(index)));
    expect(readFileSync(path, "utf8")).toBe(""); // nothing written before the turn ends
    await Promise.all(appends);
    expect(await linesIn(path)).toBe(50);
    expect(commit.writes).toBe(1);
    expect(commit.flushes).toBe(0); // answered before any fdatasync
    await vi.waitFor(() => expect(commit.flushes).toBe(1), { timeout: 2000 });
    await commit.append(item(50));
    expect(await linesIn(path)).toBe(51);
    expect(commit.writes).toBe(2);
    await commit.sync();
    expect(commit.flushes).toBe(2);
    await commit.drain(); // nothing waits: resolves at once
    sink.close();
    await folder.remove();
  });

  it("flushes a sink that cannot write without flushing, grouped", async () => {
    const { sink, flushed } = slowSink(5);
    const commit = new GroupCommit(sink, { durability: "written" });
    await Promise.all([commit.append(item(0)), commit.append(item(1))]);
    expect(flushed).toEqual([2]);
  });

  it("rejects the appends of a failed write and every later one", async () => {
    let fail = true;
    const sink = {
      append: () => {},
      writeBuffered: () => {
        if (fail) throw new Error("disk full");
      },
      flush: () => {},
    };
    const commit = new GroupCommit(sink, { durability: "written" });
    await expect(commit.append(item(0))).rejects.toThrow("disk full");
    fail = false;
    await expect(commit.append(item(1))).rejects.toThrow("disk full");
  });
});

describe('GroupCommit "none"', () => {
  it("resolves at once, and writes and flushes within the interval", async () => {
    const folder = await temporaryFolder("none");
    const path = join(folder.path, "none.jsonl");
    const sink = new JsonlSink(path, { fsync: "batch", flushIntervalMs: 0 });
    const commit = new GroupCommit(sink, { durability: "none", syncIntervalMs: 20 });
    await commit.append(item(0));
    await commit.append(item(1));
    await commit.drain();
    expect(await linesIn(path)).toBe(0);
    await vi.waitFor(() => expect(commit.flushes).toBe(1), { timeout: 2000 });
    expect(await linesIn(path)).toBe(2);
    sink.close();
    await folder.remove();
  });

  it("reports a failed background flush and refuses later appends", async () => {
    const errors: string[] = [];
    const sink: TrajectorySink = {
      append: () => {},
      flush: () => {
        throw new Error("EIO");
      },
    };
    const commit = new GroupCommit(sink, {
      durability: "none",
      syncIntervalMs: 5,
      onBackgroundError: (error) => errors.push((error as Error).message),
    });
    await commit.append(item(0));
    await vi.waitFor(() => expect(errors).toEqual(["EIO"]), { timeout: 2000 });
    await expect(commit.append(item(1))).rejects.toThrow("EIO");
    await expect(commit.sync()).rejects.toThrow("EIO");
  });
});

describe("a sink given to startGateway", () => {
  it("is flushed, not closed, when the gateway closes", async () => {
    const folder = await temporaryFolder("sink");
    const path = join(folder.path, "mine.jsonl");
    const sink = new JsonlSink(path, { fsync: "batch", flushIntervalMs: 0 });
    const model: ChatModel = {
      complete: async () => ({
        model: "m",
        choices: [{ index: 0, finishReason: "stop", message: { role: "assistant", content: "ok" } }],
      }),
    };
    const gateway = await startGateway({ model, sink });
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }] }),
    });
    expect(response.status).toBe(200);
    expect((await readRecords(path)).map((record) => record.action)).toEqual(["ok"]); // durable when answered
    await gateway.close();
    expect(sink.closed).toBe(false);
    sink.close();
    await folder.remove();
  });
});
