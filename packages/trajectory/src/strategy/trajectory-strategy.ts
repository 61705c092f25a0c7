import type { TrajectoryItem, TrajectoryItemInput } from "@orbiter/types";

/**
 * Decides which captured items a {@link TrajectoryDataset} keeps and how it transforms them.
 *
 * `capture` validates the input, asks {@link shouldCapture}, and if it answers true stores the result of
 * {@link process} — validated again, so a strategy cannot smuggle an invalid item into the dataset. Both methods
 * are synchronous, as `capture` is.
 *
 * @example
 * ```ts
 * class FilteredStrategy extends TrajectoryStrategy {
 *   shouldCapture(item: TrajectoryItem) {
 *     return item.reward >= 0.5;
 *   }
 *   process(item: TrajectoryItem) {
 *     return { ...item, reward: Math.min(1, Math.max(0, item.reward)) };
 *   }
 * }
 * const dataset = new TrajectoryDataset({ strategy: new FilteredStrategy() });
 * ```
 */
export abstract class TrajectoryStrategy {
  /** Whether a validated item should be kept. Must return a boolean. */
  abstract shouldCapture(item: TrajectoryItem): boolean;

  /**
   * Transforms a kept item before it is stored. May return the item itself or a new object (which is then
   * validated; an omitted `id` or `timestamp` is filled in afresh, so copy them to keep them).
   */
  abstract process(item: TrajectoryItem): TrajectoryItem | TrajectoryItemInput;
}
