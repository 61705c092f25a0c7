import { deriveSeed, parseWith, type Sample } from "@orbiter/types";
import { z } from "zod";
import type { Policy } from "../model/policy.js";
import type { OnRewardError } from "../rewards/reward-combination.js";
import { rewardMetrics } from "../rewards/reward-metrics.js";
import type { RewardSpec } from "../rewards/reward-spec.js";
import { appendRewardScores, emptyRewardScores, scoreRewards } from "../rewards/score-rewards.js";
import { encodePromptsForRollout } from "./prompt-encoding.js";

/** Options of {@link VeRLTrainer.evaluate}. */
export interface EvaluateOptions {
  /** Take the most likely token instead of sampling. @default true */
  greedy?: boolean;
  /** Responses per sample (sampled when more than one). @default 1 */
  samplesPerPrompt?: number;
  /** Prompts generated together in one batch. @default 64 */
  batchSize?: number;
  /**
   * Seed of the sampler when not greedy: the first chunk of `batchSize` prompts samples with it, later chunks with
   * seeds derived from it (one seed for every chunk would give a prompt the same sample in each chunk).
   * @default derived from the trainer's seed
   */
  seed?: number;
}

/** Checks {@link EvaluateOptions} and fills their defaults (a chunk of 0 or 1.5 prompts would loop or repeat). */
const EvaluateOptionsSchema = z.strictObject({
  greedy: z.boolean().default(true),
  samplesPerPrompt: z.number().int().min(1).default(1),
  batchSize: z.number().int().min(1).default(64),
  seed: z.number().int().optional(),
});

/** What {@link evaluatePolicy} needs. */
export interface EvaluatePolicyInput {
  /** The policy that answers. */
  policy: Policy;
  /** The reward functions that score the answers. */
  rewards: ReadonlyArray<RewardSpec>;
  /** The prompts (`input`) with their reference answers (`output`, or `""`). */
  samples: ReadonlyArray<Sample>;
  /** New tokens per answer. @default 32 */
  maxNewTokens?: number;
  /** Sampling temperature (when not greedy). @default 1 */
  temperature?: number;
  /** Top-k filter (0 = off). @default 0 */
  topK?: number;
  /** Nucleus mass (1 = off). @default 1 */
  topP?: number;
  /** Total reward from which an answer to a sample without reference counts as correct. @default 1 */
  accuracyThreshold?: number;
  /** What a failing reward does (see `OnRewardError`). @default "throw" */
  onRewardError?: OnRewardError;
  /** Base seed; the sampler seed of each chunk derives from it unless `options.seed` is given. @default 0 */
  seed?: number;
  /** Greedy or sampled, answers per sample, chunk size, seed. @default {} (greedy, one answer per sample) */
  options?: EvaluateOptions;
}

/** Result of {@link evaluatePolicy}. */
export interface PolicyEvaluation {
  /** Mean total reward. */
  reward: number;
  /** Fraction of correct responses (see {@link VeRLTrainer.evaluate}). */
  accuracy: number;
  /** `eval/reward/mean`, `eval/rewards/<name>/mean`, `eval/accuracy`, `eval/response_length/mean`, ... */
  metrics: Record<string, number>;
  /** Every response, in sample order (sample i's responses are consecutive). */
  outputs: string[];
}

/**
 * Whether a response counts as correct: it equals the sample's reference `output` (both trimmed) when the sample
 * has one, otherwise its total reward is at least `threshold`.
 */
export function isCorrect(output: string, sample: Sample, total: number | null, threshold: number): boolean {
  const reference = sample.output.trim();
  if (reference !== "") return output.trim() === reference;
  return total !== null && total >= threshold;
}

/**
 * Parses {@link EvaluateOptions} and fills their defaults.
 *
 * @throws InvalidArgumentError naming the option (`options.batchSize`, an unknown `options.greddy`)
 */
export function parseEvaluateOptions(
  options: EvaluateOptions | undefined,
): z.output<typeof EvaluateOptionsSchema> {
  return parseWith(EvaluateOptionsSchema, options ?? {}, { what: "evaluate options", path: "options" });
}

/** Generates responses for every sample, scores them with every reward and measures accuracy. */
export async function evaluatePolicy(input: EvaluatePolicyInput): Promise<PolicyEvaluation> {
  const { policy, rewards, samples } = input;
  const options = parseEvaluateOptions(input.options);
  const maxNewTokens = input.maxNewTokens ?? 32;
  const { greedy, samplesPerPrompt: perPrompt, batchSize: chunk } = options;
  const outputs: string[] = [];
  const all = emptyRewardScores(rewards);
  let correct = 0;
  let lengthSum = 0;
  for (let start = 0; start < samples.length; start += chunk) {
    const part = samples.slice(start, start + chunk);
    const generation = await policy.generate(encodePromptsForRollout(policy, part, maxNewTokens), {
      maxNewTokens,
      n: perPrompt,
      greedy,
      temperature: input.temperature ?? 1,
      topK: input.topK ?? 0,
      topP: input.topP ?? 1,
      seed:
        options.seed === undefined
          ? deriveSeed(input.seed ?? 0, "evaluate", start)
          : start === 0
            ? options.seed
            : deriveSeed(options.seed, "evaluate", start),
    });
    const responses = generation.texts.map((output, row) => ({
      output,
      sample: part[generation.promptIndex[row] as number] as Sample,
    }));
    const scores = await scoreRewards(rewards, responses, { onRewardError: input.onRewardError ?? "throw" });
    scores.totals.forEach((total, row) => {
      const response = responses[row] as { output: string; sample: Sample };
      if (isCorrect(response.output, response.sample, total, input.accuracyThreshold ?? 1)) correct++;
      lengthSum += (generation.responses[row] as number[]).length;
    });
    outputs.push(...generation.texts);
    appendRewardScores(all, scores);
  }
  const summary = rewardMetrics(all);
  const metrics: Record<string, number> = {};
  for (const [name, value] of Object.entries(summary)) metrics[`eval/${name}`] = value;
  const accuracy = outputs.length === 0 ? 0 : correct / outputs.length;
  metrics["eval/accuracy"] = accuracy;
  metrics["eval/response_length/mean"] = outputs.length === 0 ? 0 : lengthSum / outputs.length;
  metrics["eval/samples"] = outputs.length;
  return { reward: summary["reward/mean"] ?? 0, accuracy, metrics, outputs };
}
