import type { Sample } from "@orbiter/types";
import { type AgentEpisode, type EpisodeCall, EpisodeStatus, episodeMessages } from "./agent-episode.js";

/** What the user's agent gets besides its task: where to send its OpenAI-compatible calls. */
export interface AgentContext {
  /** The OpenAI `baseURL` of this episode (the gateway, serving the policy being trained). */
  baseURL: string;
  /** The bearer key of the gateway. */
  apiKey: string;
  /** Id of this episode (its calls are recorded under it). */
  rolloutId: string;
  /**
   * Where the agent may post a reward for this episode (`POST {"reward": 1, "name": "tests"}`); its value adds
   * to the episode's score.
   */
  rewardURL: string;
  /** Model id to put in requests. */
  model: string;
  /** Aborted when the episode times out or training is cancelled: pass it to the client. */
  signal: AbortSignal;
}

/**
 * The user's agent: any async function that solves `task` by calling an OpenAI-compatible API at
 * `context.baseURL` (for example an `openai`-SDK tool loop) and returns its final answer. A string is the answer;
 * any other value is turned into JSON.
 */
export type AgentFunction = (task: Sample, context: AgentContext) => Promise<unknown>;

/** The part of a gateway handle (`@orbiter/gateway`'s `startGateway`) that agent rollouts use. */
export interface RolloutGateway {
  /** Base URL of the gateway, e.g. `http://127.0.0.1:43123`. */
  url: string;
  /** Ends an episode and returns its recorded calls and posted rewards. */
  endEpisode(
    rolloutId: string,
  ): Promise<
    | { calls: ReadonlyArray<EpisodeCall>; rewards: ReadonlyArray<{ value: number; name?: string }> }
    | undefined
  >;
}

/** Inputs of {@link runAgentEpisodes}. */
export interface AgentRolloutInput {
  agent: AgentFunction;
  gateway: RolloutGateway;
  /** Bearer key of the gateway. */
  apiKey: string;
  /** Model id the agent should name. */
  model: string;
  /** The tasks; each runs `groupSize` episodes. */
  tasks: ReadonlyArray<Sample>;
  groupSize: number;
  /** Episodes running at once. */
  concurrency: number;
  /** An episode that runs longer is aborted and counted as timed out. */
  timeoutMs: number;
  /** Prefix of the rollout ids (unique per step). */
  rolloutPrefix: string;
  /** Cancels every episode. */
  signal?: AbortSignal;
}

/** Runs `fn` on every item with at most `limit` running at once, keeping the order of the results. */
async function mapWithLimit<T, R>(
  items: ReadonlyArray<T>,
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

const TIMED_OUT = Symbol("timed out");

/** The answer text of an agent's return value. */
function answerText(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === undefined || value === null) return "";
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * Runs `groupSize` episodes of the user's agent per task through the gateway, `concurrency` at a time, each with
 * its own rollout id, base URL and abort signal, and a timeout. Collects every recorded call of each episode and
 * the rewards the agent posted. An agent that throws gives a `failed` episode and one that runs out of time a
 * `timeout` episode (its signal is aborted; a call still in flight is not awaited). Never throws for an agent's
 * failure. Episodes come back task by task (a task's group is contiguous).
 */
export async function runAgentEpisodes(input: AgentRolloutInput): Promise<AgentEpisode[]> {
  const jobs = input.tasks.flatMap((task, taskIndex) =>
    Array.from({ length: input.groupSize }, (_, member) => ({ task, taskIndex, member })),
  );
  return mapWithLimit(jobs, input.concurrency, async ({ task, taskIndex, member }) => {
    const rolloutId = `${input.rolloutPrefix}-t${taskIndex}-g${member}`;
    const controller = new AbortController();
    const cancel = (): void => controller.abort(input.signal?.reason);
    input.signal?.addEventListener("abort", cancel, { once: true });
    if (input.signal?.aborted) cancel();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(() => resolve(TIMED_OUT), input.timeoutMs);
    });
    let status: EpisodeStatus = EpisodeStatus.OK;
    let answer = "";
    let error: unknown;
    try {
      const outcome = await Promise.race([
        input.agent(task, {
          baseURL: `${input.gateway.url}/rollouts/${encodeURIComponent(rolloutId)}/v1`,
          apiKey: input.apiKey,
          rolloutId,
          rewardURL: `${input.gateway.url}/rollouts/${encodeURIComponent(rolloutId)}/reward`,
          model: input.model,
          signal: controller.signal,
        }),
        timeout,
      ]);
      if (outcome === TIMED_OUT) {
        status = EpisodeStatus.TIMEOUT;
        controller.abort(new Error(`episode ${rolloutId} timed out after ${input.timeoutMs} ms`));
      } else {
        answer = answerText(outcome);
      }
    } catch (caught) {
      status = EpisodeStatus.FAILED;
      error = caught;
    } finally {
      clearTimeout(timer);
      input.signal?.removeEventListener("abort", cancel);
    }
    const recorded = await input.gateway.endEpisode(rolloutId);
    const calls = [...(recorded?.calls ?? [])];
    const answered = calls.filter((call) => call.status === "ok" && call.result !== undefined);
    const episode: AgentEpisode = {
      rolloutId,
      task,
      taskIndex,
      status,
      answer,
      messages: episodeMessages(calls),
      calls,
      turns: answered.length,
      toolCalls: answered.reduce(
        (sum, call) => sum + (call.result?.choices[0]?.message.tool_calls?.length ?? 0),
        0,
      ),
      postedRewards: [...(recorded?.rewards ?? [])],
      cutShort: answered.some((call) => {
        const choice = call.result?.choices[0];
        return choice?.finishReason === "length" && (choice.tokenIds?.length ?? 0) === 0;
      }),
    };
    if (error !== undefined) episode.error = error;
    return episode;
  });
}
