import { InvalidArgumentError } from "@orbiter/types";
import type { DatasetMessage } from "../formats/dataset-message.js";
import type { OpenAiChatMessage, OpenAiChatRow, OpenAiPreferenceRow } from "../formats/openai-rows.js";
import type { TrlConversationalRow, TrlPreferenceRow } from "../formats/trl-rows.js";
import type { RecordedEpisode } from "./recorded-episodes.js";

/** Options of the supervised (SFT) conversions of episodes. */
export interface EpisodeSftOptions {
  /** Keep only episodes whose reward is at least this. @default no filter */
  minReward?: number;
  /**
   * Which assistant turns are trained on (OpenAI `weight`): `"all"` leaves weights out (every assistant turn
   * counts), `"last"` gives earlier assistant turns weight 0 and the last one weight 1.
   * @default "all"
   */
  trainOn?: "all" | "last";
}

/** Whether an episode ended in a model reply: its last call did not fail (`status` "error" or "aborted"). */
function completed(episode: RecordedEpisode): boolean {
  return episode.status !== "error" && episode.status !== "aborted";
}

function keep(episode: RecordedEpisode, minReward: number | undefined): boolean {
  return completed(episode) && (minReward === undefined || episode.reward >= minReward);
}

function lastAssistant(messages: ReadonlyArray<DatasetMessage>): number {
  for (let index = messages.length - 1; index >= 0; index--)
    if (messages[index]?.role === "assistant") return index;
  return -1;
}

/**
 * Episodes as OpenAI chat fine-tuning rows (`messages`, `tools`, `parallel_tool_calls`, assistant `weight` with
 * `trainOn: "last"`). Episodes whose last call failed (status `"error"` or `"aborted"`) are left out, as are
 * those below `minReward`.
 *
 * @example
 * ```ts
 * await writeJsonlDataset("sft.jsonl", openAiChatRowsFromEpisodes(episodes, { minReward: 1 }), { format: "openai-chat" });
 * ```
 */
export function openAiChatRowsFromEpisodes(
  episodes: ReadonlyArray<RecordedEpisode>,
  options: EpisodeSftOptions = {},
): OpenAiChatRow[] {
  const trainOn = options.trainOn ?? "all";
  if (trainOn !== "all" && trainOn !== "last") {
    throw new InvalidArgumentError(`trainOn must be "all" or "last", got ${JSON.stringify(trainOn)}`, {
      field: "options.trainOn",
      value: trainOn,
    });
  }
  return episodes
    .filter((episode) => keep(episode, options.minReward))
    .map((episode) => {
      const last = lastAssistant(episode.messages);
      const messages = episode.messages.map((message, index): OpenAiChatMessage => {
        if (trainOn === "all" || message.role !== "assistant") return message;
        return { ...message, weight: index === last ? 1 : 0 };
      });
      const row: OpenAiChatRow = { messages };
      if (episode.tools !== undefined) row.tools = episode.tools;
      if (episode.parallelToolCalls !== undefined) row.parallel_tool_calls = episode.parallelToolCalls;
      return row;
    });
}

/** Episodes as TRL conversational rows (`messages`, `tools`), for `SFTTrainer`; failed episodes are left out. */
export function trlConversationalRowsFromEpisodes(
  episodes: ReadonlyArray<RecordedEpisode>,
  options: Pick<EpisodeSftOptions, "minReward"> = {},
): TrlConversationalRow[] {
  return episodes
    .filter((episode) => keep(episode, options.minReward))
    .map((episode) =>
      episode.tools === undefined
        ? { messages: episode.messages }
        : { messages: episode.messages, tools: episode.tools },
    );
}

/** A chosen and a rejected final assistant turn after the same conversation. */
export interface PreferencePair {
  /** The shared conversation before the final assistant turn. */
  prompt: DatasetMessage[];
  /** The tools of the chosen episode. */
  tools: RecordedEpisode["tools"];
  /** The final assistant turn of the best episode. */
  chosen: DatasetMessage;
  /** The final assistant turn of the worst episode. */
  rejected: DatasetMessage;
  /** Rewards of the two episodes (chosen > rejected). */
  rewards: { chosen: number; rejected: number };
}

/**
 * Preference pairs from episodes: episodes whose conversations before the final assistant turn are identical
 * (the same task sampled several times) form a group; each group whose rewards differ gives one pair, its best
 * episode's final turn chosen and its worst's rejected (first recorded wins ties). Groups in order of first
 * appearance. Episodes whose last call failed are left out.
 */
export function preferencePairsFromEpisodes(episodes: ReadonlyArray<RecordedEpisode>): PreferencePair[] {
  const groups = new Map<string, RecordedEpisode[]>();
  for (const episode of episodes) {
    const last = lastAssistant(episode.messages);
    if (last === -1 || !completed(episode)) continue;
    const key = JSON.stringify(episode.messages.slice(0, last));
    const group = groups.get(key);
    if (group) group.push(episode);
    else groups.set(key, [episode]);
  }
  const pairs: PreferencePair[] = [];
  for (const group of groups.values()) {
    let best = group[0] as RecordedEpisode;
    let worst = best;
    for (const episode of group) {
      if (episode.reward > best.reward) best = episode;
      if (episode.reward < worst.reward) worst = episode;
    }
    if (!(best.reward > worst.reward)) continue;
    const last = lastAssistant(best.messages);
    pairs.push({
      prompt: best.messages.slice(0, last),
      tools: best.tools,
      chosen: best.messages[last] as DatasetMessage,
      rejected: worst.messages[lastAssistant(worst.messages)] as DatasetMessage,
      rewards: { chosen: best.reward, rejected: worst.reward },
    });
  }
  return pairs;
}

/** Preference pairs as OpenAI preference fine-tuning rows. */
export function openAiPreferenceRows(pairs: ReadonlyArray<PreferencePair>): OpenAiPreferenceRow[] {
  return pairs.map((pair) => ({
    input:
      pair.tools === undefined ? { messages: pair.prompt } : { messages: pair.prompt, tools: pair.tools },
    preferred_output: [pair.chosen],
    non_preferred_output: [pair.rejected],
  }));
}

/** Preference pairs as TRL conversational preference rows (`prompt`, `chosen`, `rejected`, `tools`). */
export function trlPreferenceRows(pairs: ReadonlyArray<PreferencePair>): TrlPreferenceRow[] {
  return pairs.map((pair) => {
    const row = { prompt: pair.prompt, chosen: [pair.chosen], rejected: [pair.rejected] };
    return pair.tools === undefined ? row : { ...row, tools: pair.tools };
  });
}
