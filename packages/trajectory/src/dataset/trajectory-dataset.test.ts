import { InvalidArgumentError, type TrajectoryItem, type TrajectoryItemInput } from "@orbiter/types";
import { describe, expect, it } from "vitest";
import type { TrajectorySink } from "../sink/trajectory-sink.js";
import { DefaultStrategy } from "../strategy/default-strategy.js";
import { TrajectoryStrategy } from "../strategy/trajectory-strategy.js";
import { TrajectoryDataset } from "./trajectory-dataset.js";

class FilteredStrategy extends TrajectoryStrategy {
  shouldCapture(item: TrajectoryItem): boolean {
    return item.reward >= 0.5;
  }
  process(item: TrajectoryItem): TrajectoryItemInput {
    return { ...item, reward: Math.min(1, Math.max(0, item.reward)) };
  }
}

class RecordingSink implements TrajectorySink {
  readonly items: TrajectoryItem[] = [];
  flushed = 0;
  closed = 0;
  append(item: TrajectoryItem): void {
    this.items.push(item);
  }
  flush(): void {
    this.flushed++;
  }
  close(): void {
    this.closed++;
  }
}

describe("TrajectoryDataset.capture", () => {
  it("validates, fills id and timestamp, stores and returns the item", () => {
    const dataset = new TrajectoryDataset();
    const before = Date.now();
    const item = dataset.capture({
      state: "User asks about Python",
      action: "search(query='Python')",
      reward: 0.8,
      metadata: { agent: "assistant", step: 3 },
    });
    expect(item).toBeDefined();
    expect(item?.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(item?.timestamp).toBeGreaterThanOrEqual(before);
    expect(dataset.length).toBe(1);
    expect(dataset.items[0]).toBe(item);
    expect([...dataset]).toEqual([item]);
  });

  it("stores a copy: later changes to the input do not reach the dataset", () => {
    const dataset = new TrajectoryDataset();
    const input = { state: "s", action: "a", reward: 1, metadata: { tags: ["x"] } };
    dataset.capture(input);
    input.metadata.tags.push("y");
    input.state = "changed";
    expect(dataset.items[0]?.state).toBe("s");
    expect(dataset.items[0]?.metadata).toEqual({ tags: ["x"] });
  });

  it.each([
    [{ state: "s", action: "a", reward: Number.NaN }, "reward"],
    [{ state: "s", action: "a", reward: Number.POSITIVE_INFINITY }, "reward"],
    [{ action: "a", reward: 1 }, "state"],
    [{ state: ["s"], action: "a", reward: 1 }, "state"],
    [{ state: "s", action: "a", reward: 1, step: "2" }, "step"],
    [{ state: "s", action: "a", reward: 1, agent: "x" }, "agent"],
    [{ state: "s", action: "a", reward: 1, metadata: { score: Number.NaN } }, "metadata.score"],
  ])("rejects %j naming %s, keeping everything captured before", (input, field) => {
    const sink = new RecordingSink();
    const dataset = new TrajectoryDataset({ sink });
    dataset.capture({ state: "first", action: "a", reward: 1 });
    dataset.capture({ state: "second", action: "a", reward: 0 });
    const snapshot = [...dataset.items];
    let thrown: unknown;
    try {
      dataset.capture(input as TrajectoryItemInput);
    } catch (error) {
      thrown = error;
    }
    expect(InvalidArgumentError.isInstance(thrown)).toBe(true);
    expect((thrown as InvalidArgumentError).field).toBe(field);
    expect((thrown as InvalidArgumentError).message).toContain(`"${field}"`);
    expect(dataset.items).toEqual(snapshot);
    expect(sink.items).toEqual(snapshot);
    // and the dataset still works
    expect(dataset.capture({ state: "third", action: "a", reward: 1 })?.state).toBe("third");
    expect(dataset.length).toBe(3);
  });

  it("applies the strategy: shouldCapture, then process, re-validated", () => {
    const dataset = new TrajectoryDataset({ strategy: new FilteredStrategy() });
    expect(dataset.capture({ state: "low", action: "a", reward: 0.2 })).toBeUndefined();
    const kept = dataset.capture({ id: "hi", timestamp: 9, state: "high", action: "a", reward: 7 });
    expect(kept).toEqual({ id: "hi", timestamp: 9, state: "high", action: "a", reward: 1, metadata: {} });
    expect(dataset.items.map((item) => item.state)).toEqual(["high"]);
  });

  it("rejects an invalid result of strategy.process, naming the field", () => {
    class Breaking extends DefaultStrategy {
      override process(item: TrajectoryItem): TrajectoryItemInput {
        return { ...item, reward: Number.NaN };
      }
    }
    class Mutating extends DefaultStrategy {
      override process(item: TrajectoryItem): TrajectoryItem {
        (item as { state: unknown }).state = 42;
        return item;
      }
    }
    for (const strategy of [new Breaking(), new Mutating()]) {
      const dataset = new TrajectoryDataset({ strategy });
      expect(() => dataset.capture({ state: "s", action: "a", reward: 1 })).toThrow(
        expect.objectContaining({
          name: "InvalidArgumentError",
          message: expect.stringContaining("strategy.process"),
        }),
      );
      expect(dataset.length).toBe(0);
    }
  });

  it("requires shouldCapture to return a boolean", () => {
    class Sloppy extends DefaultStrategy {
      override shouldCapture(): boolean {
        return 1 as unknown as boolean;
      }
    }
    const dataset = new TrajectoryDataset({ strategy: new Sloppy() });
    expect(() => dataset.capture({ state: "s", action: "a", reward: 1 })).toThrow(
      expect.objectContaining({ field: "strategy.shouldCapture" }),
    );
  });

  it("sends each stored item to the sink, and a failing sink rejects the capture", () => {
    const sink = new RecordingSink();
    const dataset = new TrajectoryDataset({ sink, strategy: new FilteredStrategy() });
    dataset.capture({ state: "a", action: "a", reward: 0.9 });
    dataset.capture({ state: "b", action: "a", reward: 0.1 });
    expect(sink.items).toEqual(dataset.items);
    expect(sink.items).toHaveLength(1);

    const failing: TrajectorySink = {
      append() {
        throw new Error("disk full");
      },
    };
    const other = new TrajectoryDataset({ sink: failing });
    expect(() => other.capture({ state: "a", action: "a", reward: 1 })).toThrow("disk full");
    expect(other.length).toBe(0);
  });

  it("passes flush and close to the sink", async () => {
    const sink = new RecordingSink();
    const dataset = new TrajectoryDataset({ sink });
    await dataset.flush();
    await dataset.close();
    expect([sink.flushed, sink.closed]).toEqual([1, 1]);
    await new TrajectoryDataset().close(); // no sink: nothing to do
  });

  it("validates its options", () => {
    expect(() => new TrajectoryDataset({ strategy: {} as TrajectoryStrategy })).toThrow(
      expect.objectContaining({ field: "options.strategy" }),
    );
    expect(() => new TrajectoryDataset({ sink: { write() {} } as unknown as TrajectorySink })).toThrow(
      expect.objectContaining({ field: "options.sink" }),
    );
    expect(() => new TrajectoryDataset({ strategi: new DefaultStrategy() } as never)).toThrow(
      expect.objectContaining({ field: "options.strategi" }),
    );
  });
});

describe("TrajectoryDataset queries", () => {
  function sampleDataset(): TrajectoryDataset {
    const dataset = new TrajectoryDataset();
    // Episode e1 captured out of order; e2 interleaved; one item without episode; one step without `step`.
    dataset.capture({
      id: "e1-s2",
      state: "s",
      action: "a",
      reward: 3,
      taskId: "t1",
      episodeId: "e1",
      step: 2,
    });
    dataset.capture({
      id: "e2-s0",
      state: "s",
      action: "a",
      reward: 10,
      taskId: "t2",
      episodeId: "e2",
      step: 0,
    });
    dataset.capture({
      id: "e1-s0",
      state: "s",
      action: "a",
      reward: 1,
      taskId: "t1",
      episodeId: "e1",
      step: 0,
    });
    dataset.capture({ id: "solo", state: "s", action: "a", reward: 5, taskId: "t1" });
    dataset.capture({
      id: "e1-s1",
      state: "s",
      action: "a",
      reward: 2,
      taskId: "t1",
      episodeId: "e1",
      step: 1,
    });
    dataset.capture({ id: "e2-x", state: "s", action: "a", reward: 20, taskId: "t2", episodeId: "e2" });
    return dataset;
  }

  it("byTask returns the task's items in capture order", () => {
    expect(
      sampleDataset()
        .byTask("t1")
        .map((item) => item.id),
    ).toEqual(["e1-s2", "e1-s0", "solo", "e1-s1"]);
    expect(sampleDataset().byTask("none")).toEqual([]);
  });

  it("episodes groups by episodeId in order of first appearance, ordered by step", () => {
    const episodes = sampleDataset().episodes();
    expect(episodes.map((episode) => [episode.episodeId, episode.items.map((item) => item.id)])).toEqual([
      ["e1", ["e1-s0", "e1-s1", "e1-s2"]],
      ["e2", ["e2-s0", "e2-x"]],
    ]);
  });

  it("returns gives the discounted return of each item within its episode", () => {
    const dataset = sampleDataset();
    const returns = dataset.returns({ gamma: 0.5 });
    const byId = Object.fromEntries(dataset.items.map((item, index) => [item.id, returns[index]]));
    // e1: r = [1, 2, 3] → G2 = 3, G1 = 2 + 0.5·3 = 3.5, G0 = 1 + 0.5·3.5 = 2.75
    expect(byId["e1-s2"]).toBe(3);
    expect(byId["e1-s1"]).toBe(3.5);
    expect(byId["e1-s0"]).toBe(2.75);
    // e2: r = [10, 20] → G1 = 20, G0 = 10 + 0.5·20 = 20
    expect(byId["e2-x"]).toBe(20);
    expect(byId["e2-s0"]).toBe(20);
    expect(byId.solo).toBe(5);
    // default gamma 1: undiscounted sums
    expect(dataset.returns()).toEqual([3, 30, 6, 5, 5, 20]);
    expect(dataset.returns({ gamma: 0 })).toEqual(dataset.items.map((item) => item.reward));
  });

  it("rejects a gamma outside [0, 1]", () => {
    expect(() => sampleDataset().returns({ gamma: 1.5 })).toThrow(
      expect.objectContaining({ field: "options.gamma" }),
    );
    expect(() => sampleDataset().returns({ gamma: Number.NaN })).toThrow(InvalidArgumentError);
  });

  it("toSamples maps state → input, action → output, reward → score, keeping id and metadata", () => {
    const dataset = new TrajectoryDataset();
    dataset.capture({
      id: "x",
      timestamp: 42,
      state: "2+2?",
      action: "4",
      reward: 1,
      metadata: { source: "unit", taskId: "overridden" },
      taskId: "math",
      episodeId: "ep",
      step: 0,
      status: "success",
    });
    dataset.capture({ id: "y", timestamp: 43, state: "q", action: "a", reward: -1 });
    expect(dataset.toSamples()).toEqual([
      {
        id: "x",
        input: "2+2?",
        output: "4",
        score: 1,
        metadata: {
          source: "unit",
          taskId: "math",
          episodeId: "ep",
          step: 0,
          status: "success",
          timestamp: 42,
        },
      },
      { id: "y", input: "q", output: "a", score: -1, metadata: { timestamp: 43 } },
    ]);
  });

  it("hands out items as a read-only view: no push, assignment or delete reaches the dataset", () => {
    const dataset = sampleDataset();
    const view = dataset.items as TrajectoryItem[];
    const stranger = { ...(view[0] as TrajectoryItem), reward: Number.NaN };
    const attempts: Array<[string, () => unknown]> = [
      ["push", () => view.push(stranger)],
      ["index", () => (view[0] = stranger)],
      ["length", () => (view.length = 0)],
      ["splice", () => view.splice(0, 1)],
      ["delete", () => delete view[0]],
      ["freeze", () => Object.freeze(view)],
    ];
    for (const [what, attempt] of attempts) {
      let error: unknown;
      try {
        attempt();
      } catch (caught) {
        error = caught;
      }
      expect(InvalidArgumentError.isInstance(error) && error.field, what).toBe("items");
    }
    expect(dataset.length).toBe(6);
    expect(dataset.items[0]?.reward).not.toBeNaN();
    dataset.capture({ state: "s", action: "a", reward: 1 });
    expect(view).toHaveLength(7); // still a live view of the stored items
    expect([...view].at(-1)?.state).toBe("s");
  });

  it("clear empties the dataset but keeps it usable", () => {
    const dataset = sampleDataset();
    const before = dataset.items;
    dataset.clear();
    expect(dataset.length).toBe(0);
    expect(before).toHaveLength(6); // a view taken before clear is not emptied under its holder
    dataset.capture({ state: "s", action: "a", reward: 1 });
    expect(dataset.length).toBe(1);
  });
});
