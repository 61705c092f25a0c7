import { type Sample, SeededRandom } from "@orbiter/types";
import { evaluatePolicy, type Policy, parseRewardSpecs, type RewardSpecInput } from "@orbiter/verl";
import type { Evaluation } from "./demo-results.js";
import { MAX_ANSWER_TOKENS, verifyExample } from "./task.js";

/** The reward of every RL run: the task's verifier, which re-derives the right call from the request. */
export const VERIFIER_REWARD: RewardSpecInput = {
  name: "verifier",
  weight: 1,
  fn: (output: string, sample: Sample) => verifyExample(sample.input, output),
};

const rewards = parseRewardSpecs([VERIFIER_REWARD]);

/** How many answers an evaluation keeps as examples. */
const EXAMPLES = 8;

/**
 * Evaluates a policy on held-out requests: one greedy answer each, scored by the verifier; accuracy is the
 * share of answers that are exactly the reference call.
 */
export async function evaluateGreedy(policy: Policy, samples: ReadonlyArray<Sample>): Promise<Evaluation> {
  const evaluation = await evaluatePolicy({
    policy,
    rewards,
    samples,
    maxNewTokens: MAX_ANSWER_TOKENS,
    onRewardError: "throw",
    options: { greedy: true },
  });
  return {
    accuracy: evaluation.accuracy,
    reward: evaluation.reward,
    samples: samples.length,
    examples: samples.slice(0, EXAMPLES).map((sample, i) => {
      const answer = evaluation.outputs[i] ?? "";
      return {
        request: sample.input,
        expected: sample.output,
        answer,
        correct: answer.trim() === sample.output,
      };
    }),
  };
}

/** A fixed random subset of `count` samples (all of them when there are fewer). */
export function subsample<T>(samples: ReadonlyArray<T>, count: number, seed: number): T[] {
  if (samples.length <= count) return [...samples];
  return new SeededRandom(seed).sample(samples, count);
}
