import { InvalidArgumentError } from "@orbiter/types";
import type { z } from "zod";
import { OpenAiChatRow, OpenAiPreferenceRow } from "./openai-rows.js";
import { TrlConversationalRow, TrlPreferenceRow, TrlPromptCompletionRow } from "./trl-rows.js";
import { VerlRow } from "./verl-row.js";

/**
 * The dataset formats this package writes and reads.
 * - `verl`: verl's RL row (`data_source`, `prompt`, `ability`, `reward_model`, `extra_info`); Parquet or JSONL.
 * - `trl-conversational`: TRL `messages` (+ `tools`).
 * - `trl-prompt-completion`: TRL `prompt` / `completion`.
 * - `trl-preference`: TRL `prompt` / `chosen` / `rejected`.
 * - `openai-chat`: OpenAI chat fine-tuning (`messages`, `tools`, assistant `weight`).
 * - `openai-preference`: OpenAI preference fine-tuning (`input`, `preferred_output`, `non_preferred_output`).
 */
export const DatasetFormat = {
  VERL: "verl",
  TRL_CONVERSATIONAL: "trl-conversational",
  TRL_PROMPT_COMPLETION: "trl-prompt-completion",
  TRL_PREFERENCE: "trl-preference",
  OPENAI_CHAT: "openai-chat",
  OPENAI_PREFERENCE: "openai-preference",
} as const;
/** One of the {@link DatasetFormat} values. */
export type DatasetFormat = (typeof DatasetFormat)[keyof typeof DatasetFormat];

/** The row schema of each {@link DatasetFormat}. */
export const DATASET_ROW_SCHEMAS = {
  verl: VerlRow,
  "trl-conversational": TrlConversationalRow,
  "trl-prompt-completion": TrlPromptCompletionRow,
  "trl-preference": TrlPreferenceRow,
  "openai-chat": OpenAiChatRow,
  "openai-preference": OpenAiPreferenceRow,
} as const satisfies Record<DatasetFormat, z.ZodType>;

/** The row type of a {@link DatasetFormat}. */
export type DatasetRow<F extends DatasetFormat> = z.output<(typeof DATASET_ROW_SCHEMAS)[F]>;

/** Checks that `format` is a known {@link DatasetFormat}; throws an `InvalidArgumentError` naming `field`. */
export function checkDatasetFormat(format: unknown, field = "options.format"): DatasetFormat {
  if (typeof format === "string" && Object.hasOwn(DATASET_ROW_SCHEMAS, format))
    return format as DatasetFormat;
  throw new InvalidArgumentError(
    `Unknown dataset format ${JSON.stringify(format)}: expected one of ${Object.keys(DATASET_ROW_SCHEMAS).join(", ")}`,
    { field, value: format },
  );
}
