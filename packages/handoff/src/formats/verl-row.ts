import { z } from "zod";

/** A value of verl's `extra_info` column: a string, a finite number, a boolean or null. */
export const ExtraInfoValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);
/** A value of verl's `extra_info` column. */
export type ExtraInfoValue = z.infer<typeof ExtraInfoValue>;

/** One prompt message of a verl row: `STRUCT(role VARCHAR, content VARCHAR)`. */
export const VerlPromptMessage = z.strictObject({
  role: z.enum(["system", "user", "assistant", "tool"]),
  content: z.string(),
});
/** One prompt message of a verl row. */
export type VerlPromptMessage = z.infer<typeof VerlPromptMessage>;

/** What an `extra_info` field name must look like. */
export const EXTRA_INFO_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * One row of verl's RL dataset (what `RLHFDataset` reads from Parquet): the reward function is picked by
 * `data_source`, the chat `prompt` is rendered with the model's chat template, and the reward function receives
 * `reward_model.ground_truth` and `extra_info`. Every row of one file has the same `extra_info` fields, at least
 * `split` and `index`.
 *
 * @example
 * ```ts
 * const row: VerlRow = {
 *   data_source: "arithmetic", ability: "math",
 *   prompt: [{ role: "user", content: "3+4=" }],
 *   reward_model: { style: "rule", ground_truth: "7" },
 *   extra_info: { split: "train", index: 0 },
 * };
 * ```
 */
export const VerlRow = z.strictObject({
  /** Name of the dataset; verl's reward function is called with it. */
  data_source: z.string().min(1),
  /** The prompt as chat messages. */
  prompt: z.array(VerlPromptMessage).min(1, { message: "A verl row needs at least one prompt message" }),
  /** Task category, e.g. `"math"`. */
  ability: z.string(),
  /** The rule-based reward's reference. */
  reward_model: z.strictObject({
    style: z.literal("rule"),
    /** The reference answer, always a string. */
    ground_truth: z.string(),
  }),
  /**
   * Per-row extra fields handed to the reward function, the same fields in every row. Field names are identifiers
   * (letters, digits, `_`), as Parquet column names every reader agrees on.
   */
  extra_info: z
    .record(z.string(), ExtraInfoValue)
    .and(z.object({ split: z.string(), index: z.number().int().nonnegative() })),
});
/** One row of verl's RL dataset. */
export type VerlRow = z.infer<typeof VerlRow>;
