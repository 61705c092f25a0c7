import { readFileSync } from "node:fs";
import { appendFile, mkdtemp, readFile, rm, stat, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InvalidArgumentError, InvalidStateError, type TrajectoryItem } from "@orbiter/types";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TrajectoryDataset } from "../dataset/trajectory-dataset.js";
import type { ImportWarning } from "../io/import-options.js";
import { JsonlSink } from "./jsonl-sink.js";

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), "orbiter-trajectory-sink-"));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

let counter = 0;
const freshPath = () => join(directory, `sink-${counter++}.jsonl`);
const lineCount = (path: string) => readFileSync(path, "utf8").split("\n").filter(Boolean).length;
const input = (index: number) => ({
  id: `item-${index}`,
  timestamp: index,
  state: `state ${index} 😀`,
  action: "a",
  reward: index % 2 === 0 ? -0 : index,
  metadata: { index },
});
/** A batch sink (no timer) with items 0 and 1 captured, buffered and not yet written. */
function twoItemsBuffered() {
  const path = freshPath();
  const sink = new JsonlSink(path, { fsync: "batch", batchSize: 1000, flushIntervalMs: 0 });
  const dataset = new TrajectoryDataset({ sink });
  dataset.capture(input(0));
  dataset.capture(input(1));
  return { path, sink, dataset };
}

describe("JsonlSink", () => {
  it('in "always" mode, each captured item is in the file when capture returns', () => {
    const path = freshPath();
    const sink = new JsonlSink(path, { fsync: "always" });
    const dataset = new TrajectoryDataset({ sink });
    for (let index = 0; index < 5; index++) {
      dataset.capture(input(index));
      expect(lineCount(path)).toBe(index + 1);
    }
    expect(sink.appended).toBe(5);
    sink.close();
    sink.close(); // twice is fine
    expect(sink.closed).toBe(true);
    expect(() => sink.append(dataset.items[0] as TrajectoryItem)).toThrow(InvalidStateError);
  });

  it('in "batch" mode, writes every batchSize items, on flush and on close', async () => {
    const path = freshPath();
    const sink = new JsonlSink(path, { fsync: "batch", batchSize: 3, flushIntervalMs: 0 });
    const dataset = new TrajectoryDataset({ sink });
    dataset.capture(input(0));
    dataset.capture(input(1));
    expect(lineCount(path)).toBe(0);
    dataset.capture(input(2));
    expect(lineCount(path)).toBe(3);
    dataset.capture(input(3));
    await dataset.flush();
    expect(lineCount(path)).toBe(4);
    dataset.capture(input(4));
    await dataset.close();
    expect(lineCount(path)).toBe(5);
    const back = await TrajectoryDataset.fromJsonl(path);
    expect(back.items).toStrictEqual(dataset.items);
  });

  it('in "batch" mode, flushes on a timer', async () => {
    const path = freshPath();
    const sink = new JsonlSink(path, { batchSize: 1000, flushIntervalMs: 10 });
    sink.append(new TrajectoryDataset().capture(input(0)) as TrajectoryItem);
    for (let wait = 0; wait < 100 && lineCount(path) === 0; wait++)
      await new Promise((r) => setTimeout(r, 10));
    expect(lineCount(path)).toBe(1);
    sink.close();
  });

  it("appends to an existing file and refuses one that ends with a torn line", async () => {
    const path = freshPath();
    const first = new JsonlSink(path, { fsync: "always" });
    new TrajectoryDataset({ sink: first }).capture(input(0));
    first.close();
    const second = new JsonlSink(path, { fsync: "always" });
    new TrajectoryDataset({ sink: second }).capture(input(1));
    second.close();
    expect(lineCount(path)).toBe(2);

    await appendFile(path, '{"id":"torn","sta');
    expect(() => new JsonlSink(path)).toThrow(expect.objectContaining({ name: "InvalidStateError" }));
  });

  it("validates its options", () => {
    expect(() => new JsonlSink(freshPath(), { fsync: "sometimes" } as never)).toThrow(
      expect.objectContaining({ field: "options.fsync" }),
    );
    expect(() => new JsonlSink(freshPath(), { batchSize: 0 })).toThrow(InvalidArgumentError);
    expect(() => new JsonlSink("")).toThrow(expect.objectContaining({ field: "path" }));
  });
});

describe("JsonlSink.flushAsync", () => {
  it("writes the buffered lines at once and resolves after the disk flush; close waits for it", async () => {
    const { path, sink, dataset } = twoItemsBuffered();
    expect(lineCount(path)).toBe(0);
    const flushed = sink.flushAsync();
    expect(lineCount(path)).toBe(2); // written before the promise settles
    await flushed;
    await sink.flushAsync(); // nothing new: resolves at once
    dataset.capture(input(2));
    const pending = sink.flushAsync();
    sink.close(); // the descriptor stays open for the running flush
    await expect(pending).resolves.toBeUndefined();
    expect(lineCount(path)).toBe(3);
    await expect(sink.flushAsync()).rejects.toThrow(InvalidStateError);
  });
});

describe("JsonlSink.writeBuffered", () => {
  it("puts the buffered lines in the file without waiting for the batch, and flush then has nothing to write", async () => {
    const { path, sink, dataset } = twoItemsBuffered();
    expect(lineCount(path)).toBe(0);
    sink.writeBuffered();
    expect(lineCount(path)).toBe(2);
    sink.writeBuffered(); // nothing buffered: writes nothing
    expect(lineCount(path)).toBe(2);
    dataset.capture(input(2));
    sink.writeBuffered();
    await sink.flushAsync(); // forces the written lines to disk; writes nothing again
    expect(lineCount(path)).toBe(3);
    const back = await TrajectoryDataset.fromJsonl(path);
    expect(back.items).toStrictEqual(dataset.items);
    sink.close();
    expect(() => sink.writeBuffered()).toThrow(InvalidStateError);
  });
});

describe("JsonlSink.recover", () => {
  async function writeItems(path: string, count: number, from = 0): Promise<TrajectoryItem[]> {
    const sink = new JsonlSink(path, { fsync: "batch", flushIntervalMs: 0 });
    const dataset = new TrajectoryDataset({ sink });
    for (let index = from; index < from + count; index++) dataset.capture(input(index));
    sink.close();
    return [...dataset.items];
  }

  it("recovers every complete line and drops only a torn last line, at any cut point", async () => {
    const path = freshPath();
    const items = await writeItems(path, 3);
    const full = await readFile(path);
    const lineEnds = [...full.entries()].filter(([, byte]) => byte === 0x0a).map(([offset]) => offset + 1);
    const cutPath = freshPath();
    for (let cut = 0; cut <= full.length; cut++) {
      await writeFile(cutPath, full.subarray(0, cut));
      const warnings: ImportWarning[] = [];
      const { dataset, report } = await JsonlSink.recover(cutPath, { onWarning: (w) => warnings.push(w) });
      const complete = lineEnds.filter((end) => end <= cut).length;
      // A line cut exactly before its "\n" is complete JSON: it is kept and its line break restored.
      const kept = lineEnds.includes(cut + 1) ? complete + 1 : complete;
      expect(dataset.items, `cut at ${cut}`).toStrictEqual(items.slice(0, kept));
      const lastEnd = complete === 0 ? 0 : (lineEnds[complete - 1] as number);
      const torn = cut > lastEnd && kept === complete;
      expect(report.tornLine !== undefined, `cut at ${cut}`).toBe(torn);
      expect(warnings.map((w) => w.kind)).toEqual(torn ? ["incomplete-record"] : []);
      expect(report.warnings).toEqual(warnings);
      if (torn) expect(report.tornLine).toEqual({ line: complete + 1, bytes: cut - lastEnd });
      // The file is left ready for appending: it ends after the last kept line.
      expect((await stat(cutPath)).size).toBe(kept === complete ? lastEnd : cut + 1);
      expect(report.repaired).toBe(torn || kept > complete);
    }
  });

  it("resumes appending after the last complete line", async () => {
    const path = freshPath();
    const items = await writeItems(path, 4);
    await appendFile(path, '{"id":"torn","state":"half');
    const { dataset, report, sink } = await JsonlSink.recover(path, { resume: { fsync: "always" } });
    expect(report).toMatchObject({ existed: true, records: 4, repaired: true, tornLine: { line: 5 } });
    expect(dataset.sink).toBe(sink);
    dataset.capture(input(99));
    sink?.close();
    const again = await JsonlSink.recover(path);
    expect(again.report.tornLine).toBeUndefined();
    expect(again.dataset.items).toStrictEqual([...items, dataset.items[4]]);
  });

  it("leaves the file alone with repair: false", async () => {
    const path = freshPath();
    await writeItems(path, 2);
    await appendFile(path, "{");
    const size = (await stat(path)).size;
    const { report } = await JsonlSink.recover(path, { repair: false });
    expect([report.records, report.repaired, (await stat(path)).size]).toEqual([2, false, size]);
  });

  it("treats a missing file as empty, and creates it when resuming", async () => {
    const path = freshPath();
    const { dataset, report } = await JsonlSink.recover(path);
    expect([dataset.length, report.existed, report.records]).toEqual([0, false, 0]);
    const resumed = await JsonlSink.recover(path, { resume: true });
    resumed.dataset.capture(input(0));
    resumed.sink?.close();
    expect(lineCount(path)).toBe(1);
  });

  it("does not mistake mid-file corruption for a torn write", async () => {
    const path = freshPath();
    await writeItems(path, 1);
    await appendFile(path, "garbage\n");
    await writeItems(path, 1, 1); // a distinct id: a repeated one would be a revision of the first item
    await expect(JsonlSink.recover(path)).rejects.toMatchObject({ name: "InvalidArgumentError", line: 2 });
    const { dataset, report } = await JsonlSink.recover(path, { onError: "skip" });
    expect(dataset.length).toBe(2);
    expect(report.warnings.map((w) => [w.kind, w.line])).toEqual([["invalid-record", 2]]);
  });

  it("validates its options", async () => {
    const path = freshPath();
    await expect(JsonlSink.recover(path, { repair: "yes" } as never)).rejects.toMatchObject({
      field: "options.repair",
    });
    await expect(
      JsonlSink.recover(path, { resume: true, sink: new JsonlSink(freshPath(), { fsync: "always" }) }),
    ).rejects.toMatchObject({ field: "options.sink" });
    await expect(JsonlSink.recover(path, { onErorr: "skip" } as never)).rejects.toMatchObject({
      field: "options.onErorr",
    });
    await expect(JsonlSink.recover(path, { resume: "yes" } as never)).rejects.toMatchObject({
      field: "options.resume",
    });
    // A bad resume option is named as such, and rejected before a torn line is cut off.
    const torn = freshPath();
    await writeFile(torn, "{");
    await expect(JsonlSink.recover(torn, { resume: { fsync: "never" } } as never)).rejects.toMatchObject({
      field: "options.resume.fsync",
    });
    expect(await readFile(torn, "utf8")).toBe("{");
  });

  it("passes strategy and sink to the recovered dataset", async () => {
    const path = freshPath();
    await writeItems(path, 2);
    const target = freshPath();
    const sink = new JsonlSink(target, { fsync: "always" });
    const { dataset } = await JsonlSink.recover(path, { sink });
    expect(dataset.sink).toBe(sink);
    expect(lineCount(target)).toBe(0); // recovered items are not re-sent
    dataset.capture(input(5));
    sink.close();
    expect(lineCount(target)).toBe(1);
    await truncate(target, 0);
  });
});

describe("TrajectoryDataset.recoverJsonl", () => {
  it("is the dataset side of JsonlSink.recover: same items and report, errors named after it", async () => {
    const path = join(directory, "dataset-side.jsonl");
    const sink = new JsonlSink(path, { fsync: "always" });
    const written = new TrajectoryDataset({ sink });
    written.capture({ id: "one", timestamp: 1, state: "s", action: "a", reward: 1 });
    written.capture({ id: "two", timestamp: 2, state: "s", action: "b", reward: 0 });
    sink.close();
    await appendFile(path, '{"id":"torn","sta');
    const viaSink = await JsonlSink.recover(path, { repair: false });
    const { dataset, report, sink: resumed } = await TrajectoryDataset.recoverJsonl(path, { resume: true });
    expect(dataset.items.map((item) => item.id)).toEqual(["one", "two"]);
    expect(viaSink.dataset.items).toEqual(dataset.items);
    expect(report).toMatchObject({ records: 2, repaired: true, tornLine: { line: 3 } });
    expect(dataset.sink).toBe(resumed);
    dataset.capture({ id: "three", timestamp: 3, state: "s", action: "c", reward: 1 });
    resumed?.close();
    expect((await TrajectoryDataset.fromJsonl(path)).length).toBe(3);
    await expect(TrajectoryDataset.recoverJsonl(path, { repair: "yes" as never })).rejects.toThrow(
      /Invalid TrajectoryDataset.recoverJsonl options/,
    );
  });
});
