import { type ChatMessage, type Sample, SeededRandom } from "@orbiter/types";
import {
  type AgentEpisode,
  type AgentFunction,
  contentText,
  evaluateAgent,
  type Policy,
  type RewardContext,
  type RewardSpecInput,
} from "@orbiter/verl";
import type { Evaluation } from "./demo-results.js";
import { countFailureClasses, firstToolCall } from "./failure-classes.js";
import { formatCall, scoreCall, solveRequest, type ToolName } from "./task.js";
import { AGENT_MAX_CALLS, travelAgent } from "./travel-agent.js";
import { isReferenceAnswer, referenceAnswer } from "./travel-world.js";

/** Most new tokens of one assistant turn (a tool call or an answer and the end token fit). */
export const MAX_TURN_TOKENS = 32;

/** The travel agent as the trainer runs it: the same code, pointed at the policy's gateway. */
export const TRAVEL_AGENT: AgentFunction = (task, context) => travelAgent(task, context);

/** The episode settings of every run: as many turns as the agent makes calls. */
export const AGENT_OPTIONS = {
  maxTurns: AGENT_MAX_CALLS,
  concurrency: 32,
  episodeTimeoutMs: 60_000,
} as const;

/** The first tool call of a conversation, as `tool(City)` (the task's call notation), or "" when there is none. */
export function firstCallOf(messages: ReadonlyArray<ChatMessage>): string {
  const call = firstToolCall(messages);
  return call === undefined ? "" : formatCall({ tool: call.tool as ToolName, city: call.city });
}

/**
 * The verifier of a conversation: 1 when the final answer is exactly the reference answer of the request (derived
 * from the world, never from a label); otherwise half the credit of its first tool call (0.5 for the right call,
 * 0.1 each for the right tool or city), so that calling the right tool already pays.
 */
export function scoreMessages(request: string, answer: string, messages: ReadonlyArray<ChatMessage>): number {
  const expected = solveRequest(request);
  if (expected === undefined) return 0;
  if (isReferenceAnswer(request, answer)) return 1;
  return 0.5 * scoreCall(firstCallOf(messages), expected);
}

/** {@link scoreMessages} of an agent episode (its whole conversation). */
export function scoreEpisode(request: string, answer: string, episode: AgentEpisode | undefined): number {
  return scoreMessages(request, answer, episode?.messages ?? []);
}

/** The reward of every RL run and evaluation: {@link scoreEpisode} on the agent's final answer and episode. */
export const VERIFIER_REWARD: RewardSpecInput = {
  name: "verifier",
  weight: 1,
  fn: (answer: string, sample: Sample, context: RewardContext) =>
    scoreEpisode(sample.input, answer, context.episode),
};

/** How many episodes an evaluation keeps as examples. */
const EXAMPLES = 8;

/** One line per message of a transcript. */
export function transcriptLines(messages: ReadonlyArray<ChatMessage>): string[] {
  return messages.map((message) => {
    const text = contentText(message.content);
    const calls = (message.tool_calls ?? []).map(
      (call) => `${call.function.name}(${call.function.arguments})`,
    );
    if (message.role === "assistant" && calls.length > 0) {
      return `assistant -> ${calls.join(", ")}${text === "" ? "" : ` (${text})`}`;
    }
    return `${message.role}: ${text}`;
  });
}

/**
 * Evaluates the travel agent on a policy: one greedy episode per held-out request, scored by the verifier;
 * accuracy is the share of episodes whose final answer is exactly right.
 */
export async function evaluateGreedy(policy: Policy, samples: ReadonlyArray<Sample>): Promise<Evaluation> {
  const evaluation = await evaluateAgent({
    policy,
    agent: TRAVEL_AGENT,
    rewards: [VERIFIER_REWARD],
    samples,
    config: { maxNewTokens: MAX_TURN_TOKENS, onRewardError: "throw" },
    agentOptions: AGENT_OPTIONS,
    options: { greedy: true },
  });
  const { episodes } = evaluation;
  const mean = (values: number[]) =>
    values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
  return {
    accuracy: evaluation.accuracy,
    reward: evaluation.reward,
    meanTurns: mean(episodes.map((episode) => episode.turns)),
    meanToolCalls: mean(episodes.map((episode) => episode.toolCalls)),
    samples: samples.length,
    failures: countFailureClasses(
      episodes.map((episode) => ({
        request: episode.task.input,
        answer: episode.status === "ok" ? episode.answer : "",
        messages: episode.messages,
      })),
    ),
    examples: episodes.slice(0, EXAMPLES).map((episode) => {
      const expected = referenceAnswer(episode.task.input) ?? "";
      return {
        request: episode.task.input,
        expected,
        answer: episode.answer,
        correct: episode.status === "ok" && episode.answer.trim() === expected,
        turns: episode.turns,
        toolCalls: episode.toolCalls,
        transcript: transcriptLines(episode.messages),
      };
    }),
  };
}

/** A fixed random subset of `count` samples (all of them when there are fewer). */
export function subsample<T>(samples: ReadonlyArray<T>, count: number, seed: number): T[] {
  if (samples.length <= count) return [...samples];
  return new SeededRandom(seed).sample(samples, count);
}
