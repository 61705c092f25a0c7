import { join } from "node:path";
import { JsonlSink, type TrajectorySink } from "@orbiter/trajectory";
import { type ChatModel, TrajectoryItem } from "@orbiter/types";
import { describe, expect, it } from "vitest";
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
