import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TrajectoryItem } from "@orbiter/types";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TrajectoryDataset } from "../dataset/trajectory-dataset.js";
import type { ResolvedReadOptions } from "./import-options.js";
import { readJsonFile } from "./json-file.js";
import { readJsonlFile } from "./jsonl-file.js";

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), "orbiter-trajectory-chunks-"));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

const strict: ResolvedReadOptions = { onError: "throw", onWarning: () => {} };
/** Every small chunk size (so a boundary falls on every byte), and a few larger ones. */
const chunkSizes = [...Array.from({ length: 40 }, (_, index) => index + 1), 61, 64, 127, 1000];

function hazardousDataset(): TrajectoryDataset {
  const dataset = new TrajectoryDataset();
  const texts = ["\\", '\\"', '"\\\\"', "😀é\u2028", "]},[{", "a\\nb", "\uD800 lone", "\r\n", "'\\u0041'"];
  texts.forEach((text, index) => {
    dataset.capture({
      id: `h${index}`,
      timestamp: index,
      state: text.repeat(index + 1),
      action: `${text}${index}`,
      reward: index % 2 === 0 ? -0 : index / 3,
      metadata: { [text]: [text, { nested: text }], n: -0 },
    });
  });
  return dataset;
}

describe("streaming readers at every chunk boundary", () => {
  it("read JSON and JSONL identically whatever the chunk size", async () => {
    const dataset = hazardousDataset();
    const jsonPath = join(directory, "hazards.json");
    const jsonlPath = join(directory, "hazards.jsonl");
    await dataset.exportJson(jsonPath);
    await dataset.exportJsonl(jsonlPath);
    for (const chunk of chunkSizes) {
      const fromJson: TrajectoryItem[] = [];
      await readJsonFile(jsonPath, strict, (item) => fromJson.push(item), chunk);
      expect(fromJson, `JSON, chunk ${chunk}`).toStrictEqual(dataset.items);
      const fromJsonl: TrajectoryItem[] = [];
      await readJsonlFile(jsonlPath, strict, "error", (item) => fromJsonl.push(item), chunk);
      expect(fromJsonl, `JSONL, chunk ${chunk}`).toStrictEqual(dataset.items);
    }
  });

  it("names the same line for a bad element whatever the chunk size", async () => {
    const items = [
      { id: "one", state: 'multi "quoted" \\ text', action: "a", reward: 1 },
      { id: "two", state: "😀", action: "a", reward: 2, metadata: { deep: { list: [1, 2, "\\"] } } },
      { id: "three", state: "s", action: "a", reward: "bad" },
    ];
    const path = join(directory, "pretty.json");
    await writeFile(path, JSON.stringify(items, null, 2));
    const expectedLine = JSON.stringify(items, null, 2).split("\n").indexOf("  {", 20) + 1;
    expect(expectedLine).toBeGreaterThan(10);
    for (const chunk of chunkSizes) {
      const read: TrajectoryItem[] = [];
      const error = await readJsonFile(path, strict, (item) => read.push(item), chunk).catch(
        (caught) => caught,
      );
      expect([error.line, error.field], `chunk ${chunk}`).toEqual([expectedLine, "reward"]);
      expect(read.map((item) => item.id)).toEqual(["one", "two"]);
    }
  });
});
