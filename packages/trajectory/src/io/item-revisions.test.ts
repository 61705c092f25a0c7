import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TrajectoryDataset } from "../dataset/trajectory-dataset.js";
import { JsonlSink } from "../sink/jsonl-sink.js";

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "orbiter-revisions-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const line = (id: string, reward: number, step: number, episodeId = "e") =>
  JSON.stringify({ id, timestamp: 1, state: "s", action: `a${step}`, reward, metadata: {}, episodeId, step });

describe("a JSONL line repeating an earlier id revises that item", () => {
  const content = [line("x", 0, 0), line("y", 0, 1), line("z", 0, 0, "f"), line("y", 0.75, 1), ""].join("\n");

  it("fromJsonl keeps the item where it first stood with the last line's content", async () => {
    const path = join(dir, "revised.jsonl");
    await writeFile(path, content);
    const dataset = await TrajectoryDataset.fromJsonl(path);
    expect(dataset.items.map((item) => [item.id, item.reward])).toEqual([
      ["x", 0],
      ["y", 0.75],
      ["z", 0],
    ]);
    expect(dataset.returns()).toEqual([0.75, 0.75, 0]);
  });

  it("JsonlSink.recover applies the same rule, and a torn revision leaves the earlier item", async () => {
    const path = join(dir, "recover.jsonl");
    await writeFile(path, `${content}${line("x", 9, 0).slice(0, 30)}`);
    const { dataset, report } = await JsonlSink.recover(path);
    expect(report.tornLine?.line).toBe(5);
    expect(dataset.items.map((item) => [item.id, item.reward])).toEqual([
      ["x", 0],
      ["y", 0.75],
      ["z", 0],
    ]);
  });
});
