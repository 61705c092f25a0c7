import { InvalidArgumentError, type Sample } from "@orbiter/types";
import type { OpenAiChatRow } from "../formats/openai-rows.js";
import type { TrlPromptCompletionRow } from "../formats/trl-rows.js";
import type { ExtraInfoValue, VerlPromptMessage, VerlRow } from "../formats/verl-row.js";
import type { RecordedEpisode } from "./recorded-episodes.js";

/** Samples, or anything that turns into samples (a `TrajectoryDataset`: state → input, action → output). */
export type SampleList = ReadonlyArray<Sample> | { toSamples(): Sample[] };

/** The `extra_info` fields every verl row built here carries, which `serveRewards` reads back. */
export const RESERVED_EXTRA_INFO = ["split", "index", "sample_id", "input"] as const;

/** Options of {@link verlRowsFromSamples}. */
export interface VerlRowsOptions {
  /** `data_source` of every row (verl passes it to the reward function). */
  dataSource: string;
  /** `ability` of every row. @default "" */
  ability?: string;
  /** `extra_info.split`. @default "train" */
  split?: string;
  /** A system message put before each prompt. @default none */
  systemPrompt?: string;
  /**
   * More `extra_info` fields per row (strings, finite numbers, booleans, null), the same fields for every row.
   * They may not be named `split`, `index`, `sample_id` or `input`, which every row carries.
   */
  extraInfo?: (sample: Sample, index: number) => Record<string, ExtraInfoValue>;
  /**
   * What errors call the samples: a bad sample is named `${path}[i].input`, so a caller that takes the samples as
   * one of its own options names that option (`exportVerlJob` passes `"train"`). @default "samples"
   */
  path?: string;
}

/** Refuses (naming `<path>[i].field`) what the converters would otherwise turn into malformed rows. */
function checkSample(sample: unknown, index: number, path: string): void {
  const at = `${path}[${index}]`;
  if (sample === null || typeof sample !== "object") {
    throw new InvalidArgumentError(`${at} must be a sample { input, output }`, { field: at });
  }
  const { id, input, output } = sample as Partial<Record<keyof Sample, unknown>>;
  for (const [name, value] of [
    ["input", input],
    ["output", output],
  ] as const) {
    if (typeof value !== "string") {
      throw new InvalidArgumentError(`${at}.${name} must be a string`, { field: `${at}.${name}`, value });
    }
  }
  if (id !== undefined && typeof id !== "string") {
    throw new InvalidArgumentError(`${at}.id must be a string`, { field: `${at}.id`, value: id });
  }
}

function toSampleList(source: SampleList, path = "samples"): ReadonlyArray<Sample> {
  let samples: ReadonlyArray<Sample>;
  if (Array.isArray(source)) samples = source;
  else if (source !== null && typeof source === "object" && "toSamples" in source)
    samples = source.toSamples();
  else {
    throw new InvalidArgumentError("Expected an array of samples or an object with toSamples()", {
      field: path,
    });
  }
  for (const [index, sample] of samples.entries()) checkSample(sample, index, path);
  return samples;
}

function checkDataSource(options: { dataSource?: unknown } | undefined): string {
  if (typeof options?.dataSource !== "string" || options.dataSource === "") {
    throw new InvalidArgumentError("options.dataSource must be a non-empty string (verl's data_source)", {
      field: "options.dataSource",
      value: options?.dataSource,
    });
  }
  return options.dataSource;
}

function extraFields(
  options: VerlRowsOptions,
  sample: Sample,
  index: number,
): Record<string, ExtraInfoValue> {
  const extra = options.extraInfo?.(sample, index) ?? {};
  for (const key of RESERVED_EXTRA_INFO) {
    if (Object.hasOwn(extra, key)) {
      throw new InvalidArgumentError(`options.extraInfo may not set "${key}": every row carries it already`, {
        field: `options.extraInfo.${key}`,
      });
    }
  }
  return extra;
}

/**
 * Samples as verl RL rows: the prompt is the sample's input as a user message (after `systemPrompt`), the ground
 * truth its output, and `extra_info` holds `split`, `index`, `sample_id` and `input` (so the reward server can
 * rebuild the sample the TypeScript reward functions expect) plus `options.extraInfo`.
 *
 * @example
 * ```ts
 * const rows = verlRowsFromSamples([{ id: "a", input: "3+4=", output: "7", metadata: {} }], { dataSource: "arithmetic" });
 * rows[0].reward_model.ground_truth; // "7"
 * ```
 */
export function verlRowsFromSamples(source: SampleList, options: VerlRowsOptions): VerlRow[] {
  const dataSource = checkDataSource(options);
  const split = options.split ?? "train";
  return toSampleList(source, options.path).map((sample, index) => {
    const prompt: VerlPromptMessage[] = [];
    if (options.systemPrompt !== undefined) prompt.push({ role: "system", content: options.systemPrompt });
    prompt.push({ role: "user", content: sample.input });
    return {
      data_source: dataSource,
      prompt,
      ability: options.ability ?? "",
      reward_model: { style: "rule", ground_truth: sample.output },
      extra_info: {
        ...extraFields(options, sample, index),
        split,
        index,
        sample_id: sample.id,
        input: sample.input,
      },
    };
  });
}

/** Options of {@link verlRowsFromEpisodes}. */
export interface VerlEpisodeRowsOptions extends Omit<VerlRowsOptions, "extraInfo" | "systemPrompt" | "path"> {
  /** The reference answer of an episode's task (verl's `ground_truth`, always a string). */
  groundTruth: (episode: RecordedEpisode) => string;
}

function messageText(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) return content.map((part: { text: string }) => part.text).join("");
  return "";
}

/**
 * Recorded episodes as verl RL rows: the prompt is the conversation before the first assistant turn (a
 * `developer` message becomes `system`), the ground truth comes from `options.groundTruth`, and `extra_info.input`
 * is the last user message before that turn.
 */
export function verlRowsFromEpisodes(
  episodes: ReadonlyArray<RecordedEpisode>,
  options: VerlEpisodeRowsOptions,
): VerlRow[] {
  const dataSource = checkDataSource(options);
  if (typeof options.groundTruth !== "function") {
    throw new InvalidArgumentError(
      "options.groundTruth must be a function returning the episode's reference answer",
      {
        field: "options.groundTruth",
      },
    );
  }
  const split = options.split ?? "train";
  return episodes.map((episode, index) => {
    const first = episode.messages.findIndex((message) => message.role === "assistant");
    const before = first === -1 ? episode.messages : episode.messages.slice(0, first);
    const prompt = before.map(
      (message): VerlPromptMessage => ({
        role: message.role === "developer" ? "system" : message.role,
        content: messageText(message.content),
      }),
    );
    const user = [...prompt].reverse().find((message) => message.role === "user");
    return {
      data_source: dataSource,
      prompt,
      ability: options.ability ?? "",
      reward_model: { style: "rule", ground_truth: options.groundTruth(episode) },
      extra_info: { split, index, sample_id: episode.episodeId, input: user?.content ?? "" },
    };
  });
}

/** Options of the supervised conversions of samples. */
export interface SampleSftOptions {
  /** A system message put before each prompt. @default none */
  systemPrompt?: string;
  /** TRL rows as chat messages (`true`) or plain text (`false`). @default true */
  conversational?: boolean;
}

/** Samples as TRL prompt-completion rows (chat messages, or text with `conversational: false`). */
export function trlPromptCompletionRowsFromSamples(
  source: SampleList,
  options: SampleSftOptions = {},
): TrlPromptCompletionRow[] {
  const conversational = options.conversational ?? true;
  return toSampleList(source).map((sample) => {
    if (!conversational)
      return { prompt: `${options.systemPrompt ?? ""}${sample.input}`, completion: sample.output };
    const prompt =
      options.systemPrompt === undefined
        ? [{ role: "user" as const, content: sample.input }]
        : [
            { role: "system" as const, content: options.systemPrompt },
            { role: "user" as const, content: sample.input },
          ];
    return { prompt, completion: [{ role: "assistant" as const, content: sample.output }] };
  });
}

/** Samples as OpenAI chat fine-tuning rows: (system), user input, assistant output. */
export function openAiChatRowsFromSamples(
  source: SampleList,
  options: Pick<SampleSftOptions, "systemPrompt"> = {},
): OpenAiChatRow[] {
  return toSampleList(source).map((sample) => ({
    messages: [
      ...(options.systemPrompt === undefined
        ? []
        : [{ role: "system" as const, content: options.systemPrompt }]),
      { role: "user" as const, content: sample.input },
      { role: "assistant" as const, content: sample.output },
    ],
  }));
}
