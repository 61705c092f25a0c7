import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FilteredStrategy, main, type TrajectoryStrategyResult } from "./trajectory-strategy.js";

let dir: string;
let result: TrajectoryStrategyResult;
const lines: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "example-trajectory-strategy-"));
  result = await main({ dir, gamma: 0.5, log: (line) => lines.push(line) });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("trajectory-strategy example", () => {
  it("keeps only turns with reward >= 0.5 and clamps rewards to [0, 1]", () => {
    expect(result.offered).toBe(6);
    expect(result.items.map((item) => [item.episodeId, item.step, item.reward])).toEqual([
      ["episode-1", 0, 0.6],
      ["episode-1", 1, 1],
      ["episode-2", 0, 0.9],
      ["episode-3", 1, 0.8],
    ]);
  });

  it("turns the conversation into state, action and messages, tool call included", () => {
    const [toolTurn, answerTurn] = result.items;
    expect(toolTurn?.state).toBe(
      "system: You are a helpful weather assistant.\nuser: What's the weather in Paris?",
    );
    expect(toolTurn?.action).toBe('get_weather({"city":"Paris"})');
    expect(toolTurn?.messages).toHaveLength(3);
    expect(answerTurn?.state).toContain('tool [call_paris]: {"city":"Paris","temperature":18');
    expect(answerTurn?.action).toBe("It is 18°C in Paris right now.");
    expect(answerTurn).toMatchObject({ taskId: "weather", agentId: "weather-assistant" });
  });

  it("appends every kept item to the sink file as it is captured", async () => {
    expect(result.sink.appended).toBe(4);
    expect(result.sink.recovered).toEqual(result.items);
    const records = (await readFile(result.sink.path, "utf8")).trimEnd().split("\n");
    expect(records.map((record) => JSON.parse(record).id)).toEqual(result.items.map((item) => item.id));
  });

  it("re-imports identical items from the JSON, JSON Lines and CSV exports", async () => {
    for (const format of ["json", "jsonl", "csv"] as const) {
      expect(result.exports[format].records, format).toBe(4);
      expect(result.exports[format].path.startsWith(dir), format).toBe(true);
      expect(result.reimported[format], format).toEqual(result.items);
    }
    const header = (await readFile(result.exports.csv.path, "utf8")).split("\n")[0];
    expect(header).toBe(
      "id,timestamp,state,action,reward,metadata,taskId,agentId,episodeId,step,status,messages",
    );
  });

  it("groups episodes by step and computes discounted returns", () => {
    expect(result.episodes.map((episode) => [episode.episodeId, episode.items.length])).toEqual([
      ["episode-1", 2],
      ["episode-2", 1],
      ["episode-3", 1],
    ]);
    // G_0 = r_0 + gamma * r_1 with gamma = 0.5
    expect(result.returns[0]).toBeCloseTo(0.6 + 0.5 * 1, 12);
    expect(result.returns.slice(1)).toEqual([1, 0.9, 0.8]);
    expect(lines.some((line) => line.includes("re-imported 4 (identical)"))).toBe(true);
  });

  it("the strategy itself filters and clamps", () => {
    const strategy = new FilteredStrategy();
    const item = { id: "x", timestamp: 1, state: "s", action: "a", reward: 7, metadata: {} };
    expect(strategy.shouldCapture(item)).toBe(true);
    expect(strategy.process(item)).toEqual({ ...item, reward: 1 });
    expect(strategy.shouldCapture({ ...item, reward: 0.49 })).toBe(false);
  });
});
