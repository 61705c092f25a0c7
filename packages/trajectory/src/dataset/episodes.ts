import type { TrajectoryItem } from "@orbiter/types";

/** The steps of one episode (one attempt at a task), in order. */
export interface Episode {
  /** The shared `episodeId` of the steps. */
  episodeId: string;
  /** The steps, ordered by `step` (see {@link orderEpisodeSteps}). */
  items: TrajectoryItem[];
}

/**
 * Indices of the items of each episode, episodes in order of first appearance, steps ordered by `step`
 * ascending; steps with the same `step` keep capture order and steps without a `step` come last, in capture
 * order. Items without an `episodeId` belong to no episode.
 */
export function orderEpisodeSteps(items: ReadonlyArray<TrajectoryItem>): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  for (let index = 0; index < items.length; index++) {
    const episodeId = (items[index] as TrajectoryItem).episodeId;
    if (episodeId === undefined) continue;
    const group = groups.get(episodeId);
    if (group) group.push(index);
    else groups.set(episodeId, [index]);
  }
  for (const group of groups.values()) {
    // Array.prototype.sort is stable, so equal steps keep capture order.
    group.sort((a, b) => {
      const stepA = (items[a] as TrajectoryItem).step ?? Number.POSITIVE_INFINITY;
      const stepB = (items[b] as TrajectoryItem).step ?? Number.POSITIVE_INFINITY;
      return stepA === stepB ? 0 : stepA < stepB ? -1 : 1;
    });
  }
  return groups;
}

/**
 * Discounted return of every item within its episode, aligned with `items`:
 * `G_t = r_t + gamma * G_{t+1}`, the last step's return being its reward. An item without an `episodeId` is an
 * episode of one step, so its return is its reward.
 */
export function discountedReturns(items: ReadonlyArray<TrajectoryItem>, gamma: number): number[] {
  const returns = items.map((item) => item.reward);
  for (const group of orderEpisodeSteps(items).values()) {
    let next = 0;
    for (let position = group.length - 1; position >= 0; position--) {
      const index = group[position] as number;
      next = (items[index] as TrajectoryItem).reward + gamma * next;
      returns[index] = next;
    }
  }
  return returns;
}
