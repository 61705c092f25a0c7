import { TrajectoryDataset } from "@orbiter/trajectory";
import { InvalidArgumentError, parseWith, ToolDefinition, type TrajectoryItem } from "@orbiter/types";
import { z } from "zod";
import { DatasetMessage } from "../formats/dataset-message.js";

/** One recorded multi-turn episode, as the gateway leaves it: the whole transcript and the episode's reward. */
export interface RecordedEpisode {
  /** The rollout id shared by the episode's items. */
  episodeId: string;
  /** The whole conversation: the last call's request messages followed by its assistant reply. */
  messages: DatasetMessage[];
  /** The tools of the last call's request (`metadata.tools`), if any. */
  tools: ToolDefinition[] | undefined;
  /** The episode's reward (the last item's). */
  reward: number;
  /** The task, when the items name one. */
  taskId: string | undefined;
  /** The last call's status (`"success"`, `"error"`, `"aborted"`), when recorded. */
  status: string | undefined;
  /** The last call's `parallel_tool_calls` request setting (`metadata.parallel_tool_calls`), when recorded. */
  parallelToolCalls: boolean | undefined;
}

const Messages = z.array(DatasetMessage).min(1, { message: "Expected at least one message" });
const Tools = z.array(ToolDefinition);

function fromItem(episodeId: string, item: TrajectoryItem, field: string): RecordedEpisode {
  if (item.messages === undefined) {
    throw new InvalidArgumentError(
      `Episode "${episodeId}": its last item (step ${item.step ?? "?"}) has no messages, so there is no transcript`,
      { field: `${field}.messages` },
    );
  }
  const messages = parseWith(Messages, item.messages, {
    what: "episode transcript",
    path: `${field}.messages`,
  });
  const rawTools = item.metadata.tools;
  const tools =
    rawTools === undefined
      ? undefined
      : parseWith(Tools, rawTools, { what: "episode tools", path: `${field}.metadata.tools` });
  const parallel = item.metadata.parallel_tool_calls;
  return {
    episodeId,
    messages,
    tools,
    reward: item.reward,
    taskId: item.taskId,
    status: item.status,
    parallelToolCalls: typeof parallel === "boolean" ? parallel : undefined,
  };
}

/**
 * The recorded episodes of a dataset of gateway items (one item per model call: `episodeId` = rollout id, `step` =
 * call index, `messages` = the request's messages followed by the assistant reply, `metadata.tools` = the
 * request's tools). Items are grouped by `episodeId` and ordered by `step`; the last item of each episode holds the
 * whole transcript and the episode reward (the gateway appends it as a revision of that item, which
 * `TrajectoryDataset.fromJsonl` applies). An item without `episodeId` is an episode of its own. Tool-call
 * arguments must be JSON strings; a malformed transcript is an `InvalidArgumentError` naming the item.
 *
 * @example
 * ```ts
 * const episodes = recordedEpisodes(await TrajectoryDataset.fromJsonl("gateway.jsonl"));
 * ```
 */
export function recordedEpisodes(source: TrajectoryDataset | Iterable<TrajectoryItem>): RecordedEpisode[] {
  let dataset: TrajectoryDataset;
  if (source instanceof TrajectoryDataset) dataset = source;
  else {
    dataset = new TrajectoryDataset();
    for (const item of source) dataset.capture(item);
  }
  const episodes = dataset.episodes().map(({ episodeId, items }) => {
    const last = items[items.length - 1] as TrajectoryItem;
    return fromItem(episodeId, last, `episodes["${episodeId}"].items[${items.length - 1}]`);
  });
  for (const item of dataset.items) {
    if (item.episodeId === undefined) episodes.push(fromItem(item.id, item, `items["${item.id}"]`));
  }
  return episodes;
}

/** Reads a gateway JSONL file (`TrajectoryDataset.fromJsonl`) and returns its {@link recordedEpisodes}. */
export async function readRecordedEpisodes(path: string): Promise<RecordedEpisode[]> {
  return recordedEpisodes(await TrajectoryDataset.fromJsonl(path));
}
