import type { Sample } from "@orbiter/types";
import type { Policy } from "../model/policy.js";

/**
 * The prompts handed to `policy.generate`: the sample's text when it fits in the context together with
 * `maxNewTokens` new tokens (the policy adds its BOS), otherwise the BOS token followed by the prompt's last
 * tokens that fit (left truncation keeps the end of the prompt, next to the answer).
 */
export function encodePromptsForRollout(
  policy: Policy,
  samples: ReadonlyArray<Sample>,
  maxNewTokens: number,
): Array<string | number[]> {
  const budget = policy.contextLength - maxNewTokens - 1;
  return samples.map((sample) => {
    const ids = policy.tokenizer.encode(sample.input);
    if (ids.length <= budget && ids.length > 0) return sample.input;
    if (ids.length === 0) return [policy.tokenizer.bosId];
    return [policy.tokenizer.bosId, ...ids.slice(ids.length - Math.max(budget, 0))];
  });
}
