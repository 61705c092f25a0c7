import type { Sample, TrajectoryItem, TrajectoryItemInput } from "@orbiter/types";
import { describe, expectTypeOf, it } from "vitest";
import type { JsonlSink } from "../sink/jsonl-sink.js";
import type { TrajectorySink } from "../sink/trajectory-sink.js";
import { TrajectoryStrategy } from "../strategy/trajectory-strategy.js";
import { TrajectoryDataset } from "./trajectory-dataset.js";

describe("TrajectoryDataset types", () => {
  it("captures inputs and returns stored items or undefined", () => {
    const dataset = new TrajectoryDataset();
    expectTypeOf(dataset.capture).parameter(0).toEqualTypeOf<TrajectoryItemInput>();
    expectTypeOf(dataset.capture({ state: "s", action: "a", reward: 1 })).toEqualTypeOf<
      TrajectoryItem | undefined
    >();
    expectTypeOf(dataset.items).toEqualTypeOf<ReadonlyArray<TrajectoryItem>>();
    expectTypeOf(dataset.toSamples()).toEqualTypeOf<Sample[]>();
    expectTypeOf(dataset.returns()).toEqualTypeOf<number[]>();
    // @ts-expect-error reward is required
    dataset.capture({ state: "s", action: "a" });
    // @ts-expect-error items cannot be pushed to
    dataset.items.push({} as TrajectoryItem);
  });

  it("lets a strategy return an item or an input", () => {
    class Clamp extends TrajectoryStrategy {
      shouldCapture(item: TrajectoryItem): boolean {
        return item.reward > 0;
      }
      process(item: TrajectoryItem): TrajectoryItemInput {
        return { state: item.state, action: item.action, reward: 1 };
      }
    }
    expectTypeOf(new TrajectoryDataset({ strategy: new Clamp() })).toEqualTypeOf<TrajectoryDataset>();
  });

  it("accepts any sink with append, JsonlSink included", () => {
    expectTypeOf<JsonlSink>().toMatchTypeOf<TrajectorySink>();
    expectTypeOf(TrajectoryDataset.fromJsonl).returns.toEqualTypeOf<Promise<TrajectoryDataset>>();
  });
});
