import type { TrajectoryItem, TrajectoryItemInput } from "@orbiter/types";
import { TrajectoryStrategy } from "./trajectory-strategy.js";

/**
 * The strategy used when none is given: keeps every item, unchanged.
 *
 * @example
 * ```ts
 * const dataset = new TrajectoryDataset({ strategy: new DefaultStrategy() }); // same as new TrajectoryDataset()
 * ```
 */
export class DefaultStrategy extends TrajectoryStrategy {
  /** Always true. */
  shouldCapture(_item: TrajectoryItem): boolean {
    return true;
  }

  /** Returns the item unchanged (declared with the base return type, so subclasses may return an input). */
  process(item: TrajectoryItem): TrajectoryItem | TrajectoryItemInput {
    return item;
  }
}
