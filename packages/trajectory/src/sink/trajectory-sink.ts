import type { TrajectoryItem } from "@orbiter/types";

/**
 * Where a {@link TrajectoryDataset} sends every item it stores, as it stores it — typically durable storage
 * such as {@link JsonlSink}, so that a crash loses nothing that was captured.
 *
 * `append` is called synchronously by `capture` before the item becomes visible in the dataset; if it throws,
 * the capture fails and the dataset is unchanged.
 */
export interface TrajectorySink {
  /** Records one validated, stored item. */
  append(item: TrajectoryItem): void;
  /** Makes everything appended so far durable. */
  flush?(): void | Promise<void>;
  /** Flushes and releases the sink; no `append` may follow. */
  close?(): void | Promise<void>;
}
