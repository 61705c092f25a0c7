import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TrajectoryDataset } from "@orbiter/trajectory";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BasicUsageResult, main } from "./basic-usage.js";

let dir: string;
let result: BasicUsageResult;
const lines: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "example-basic-usage-"));
  result = await main({ dir, log: (line) => lines.push(line) });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("basic-usage example", () => {
  it("captures the guide's items with ids, timestamps and metadata filled in", () => {
    expect(result.items.map((item) => [item.state, item.action, item.reward])).toEqual([
      ["User asks about Python", "search(query='Python programming')", 0.8],
      ["The user asked about Python decorators", "respond(explanation='Decorators are...')", 0.9],
      ["s1", "a1", 0.7],
      ["s2", "a2", 0.9],
    ]);
    expect(result.items[1]?.metadata).toEqual({ agent: "assistant", step: 3 });
    expect(result.items[0]?.metadata).toEqual({});
    expect(new Set(result.items.map((item) => item.id)).size).toBe(4);
    for (const item of result.items) expect(item.timestamp).toBeGreaterThan(0);
  });

  it("writes the exports into the given folder and reads the JSON back unchanged", async () => {
    expect(result.dir).toBe(dir);
    expect(result.json).toMatchObject({ path: join(dir, "training_data.json"), records: 4 });
    expect(result.csv).toMatchObject({ path: join(dir, "trajectories.csv"), records: 4 });
    const parsed = JSON.parse(await readFile(result.json.path, "utf8")) as unknown[];
    expect(parsed).toHaveLength(4);
    expect(result.reimported).toEqual(result.items);
    const fromCsv = await TrajectoryDataset.fromCsv(result.csv.path);
    expect([...fromCsv.items]).toEqual(result.items);
  });

  it("prints an account of what it did", () => {
    expect(lines[0]).toBe("Captured 4 items:");
    expect(
      lines.some((line) => line.startsWith("Wrote 4 items to") && line.includes("training_data.json")),
    ).toBe(true);
  });
});
