import { functionSchema, InvalidArgumentError, parseWith, type Sample } from "@orbiter/types";
import { z } from "zod";
import type { AgentEpisode } from "../agent/agent-episode.js";

/** What a reward function learns besides the output and the sample. */
export interface RewardContext {
  /** In agent mode: the whole episode (its messages, turns, tool calls and posted rewards). */
  episode?: AgentEpisode;
}

/**
 * A reward function: scores one generated `output` for its `sample` (the prompt is `sample.input`; a reference
 * answer, when there is one, is `sample.output`). It may be async, and may return `null` (or `undefined`) to
 * abstain: an abstaining reward adds nothing to that response's score. In agent mode `output` is the agent's
 * final answer and `context.episode` the whole episode.
 */
export type RewardFunction = (
  output: string,
  sample: Sample,
  context: RewardContext,
) => number | null | undefined | Promise<number | null | undefined>;

/**
 * A named, weighted reward signal: a function scoring one response, its name in the metrics and its weight in
 * the sum.
 *
 * @example
 * ```ts
 * const exact: RewardSpec = { name: "exact", weight: 1, fn: (output, sample) => (output === sample.output ? 1 : 0) };
 * ```
 */
export const RewardSpec = z.strictObject({
  /** Name used in metrics (`rewards/<name>/mean`); unique within a trainer. */
  name: z.string().min(1),
  /** Weight in the combined score. @default 1 */
  weight: z.number().finite().default(1),
  /** The reward function, sync or async. */
  fn: functionSchema<RewardFunction>("Expected a function"),
});

/** A validated {@link RewardSpec}: the weight is filled in. */
export type RewardSpec = z.output<typeof RewardSpec>;
/** What a trainer accepts: a {@link RewardSpec} whose weight may be omitted. */
export type RewardSpecInput = z.input<typeof RewardSpec>;

/**
 * Validates a list of reward specs: at least one, each well formed, names unique. Throws an
 * `InvalidArgumentError` naming the field (`rewards[1].weight`).
 *
 * @param path field path prefix for messages @default "rewards"
 */
export function parseRewardSpecs(input: unknown, path = "rewards"): RewardSpec[] {
  if (!Array.isArray(input) || input.length === 0) {
    throw new InvalidArgumentError(`Invalid reward list: "${path}" must be a non-empty array of RewardSpec`, {
      field: path,
      value: input,
    });
  }
  const rewards = input.map((item, index) =>
    parseWith(RewardSpec, item, { what: "RewardSpec", path: `${path}[${index}]` }),
  );
  const seen = new Set<string>();
  rewards.forEach((reward, index) => {
    if (seen.has(reward.name)) {
      throw new InvalidArgumentError(`Duplicate reward name "${reward.name}"`, {
        field: `${path}[${index}].name`,
        value: reward.name,
      });
    }
    seen.add(reward.name);
  });
  return rewards;
}
