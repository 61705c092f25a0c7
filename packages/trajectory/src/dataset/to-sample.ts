import type { JsonObject, Sample, TrajectoryItem } from "@orbiter/types";

/**
 * Maps a trajectory item to a training sample: state → input, action → output, reward → score, same id. The
 * sample's metadata is the item's metadata plus its `taskId`, `agentId`, `episodeId`, `step`, `status` and
 * `timestamp` where set (these item fields win over metadata keys of the same name).
 *
 * @example
 * ```ts
 * toSample({ id: "t1", timestamp: 5, state: "2+2?", action: "4", reward: 1, metadata: {}, taskId: "math" });
 * // { id: "t1", input: "2+2?", output: "4", score: 1, metadata: { taskId: "math", timestamp: 5 } }
 * ```
 */
export function toSample(item: TrajectoryItem): Sample {
  const metadata: JsonObject = { ...item.metadata };
  if (item.taskId !== undefined) metadata.taskId = item.taskId;
  if (item.agentId !== undefined) metadata.agentId = item.agentId;
  if (item.episodeId !== undefined) metadata.episodeId = item.episodeId;
  if (item.step !== undefined) metadata.step = item.step;
  if (item.status !== undefined) metadata.status = item.status;
  metadata.timestamp = item.timestamp;
  return { id: item.id, input: item.state, output: item.action, score: item.reward, metadata };
}
