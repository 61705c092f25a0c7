import type { ChatCompletionRequest, ChatCompletionResult, ChatMessage, Sample } from "@orbiter/types";

/**
 * One model call of an episode as the gateway records it (the fields of `@orbiter/gateway`'s `RecordedCall`
 * that training reads). Only calls with `status: "ok"` and a result carrying token ids are trained on.
 */
export interface EpisodeCall {
  /** Position of the call in its episode, from 0. */
  index: number;
  /** The request as the agent sent it. */
  request: ChatCompletionRequest;
  /** The model's answer, with `promptTokenIds` and each choice's `tokenIds` / `tokenLogprobs`. */
  result?: ChatCompletionResult;
  /** Whether the call was answered. */
  status: "ok" | "error" | "aborted";
}

/** How an episode ended. */
export const EpisodeStatus = {
  /** The agent returned an answer. */
  OK: "ok",
  /** The agent threw. */
  FAILED: "failed",
  /** The agent did not finish within `episodeTimeoutMs`. */
  TIMEOUT: "timeout",
} as const;
/** How an episode ended. */
export type EpisodeStatus = (typeof EpisodeStatus)[keyof typeof EpisodeStatus];

/**
 * One run of the user's agent on one task, as reward functions and metrics see it. Failed and timed-out episodes
 * are counted and left out of the update.
 */
export interface AgentEpisode {
  /** The gateway rollout id the agent's calls were recorded under. */
  rolloutId: string;
  /** The task the agent was given. */
  task: Sample;
  /** Index of the task in the step's batch (its GRPO group). */
  taskIndex: number;
  /** How it ended. */
  status: EpisodeStatus;
  /** The agent's final answer as text (a non-string return value as JSON; "" when it failed). */
  answer: string;
  /** The error of a failed episode. */
  error?: unknown;
  /** The whole conversation: the last call's messages followed by its answer. */
  messages: ChatMessage[];
  /** Every model call the agent made, in order. */
  calls: EpisodeCall[];
  /** Assistant turns (answered calls). */
  turns: number;
  /** Tool calls the policy made over the episode. */
  toolCalls: number;
  /** Rewards the agent posted to the gateway for this rollout; their values add to the score. */
  postedRewards: Array<{ value: number; name?: string }>;
  /** Whether a call reached `maxTurns` (and was answered empty) or filled the context. */
  cutShort: boolean;
}

/** The whole conversation of an episode's calls: the last answered call's messages and its first choice. */
export function episodeMessages(calls: ReadonlyArray<EpisodeCall>): ChatMessage[] {
  const last = [...calls].reverse().find((call) => call.status === "ok" && call.result !== undefined);
  if (last === undefined) return calls.length > 0 ? [...(calls.at(-1) as EpisodeCall).request.messages] : [];
  const reply = last.result?.choices[0]?.message;
  return reply === undefined ? [...last.request.messages] : [...last.request.messages, reply];
}
