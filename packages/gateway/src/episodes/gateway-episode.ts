import type { ChatCompletionRequest, ChatCompletionResult } from "@orbiter/types";

/** How a recorded call ended. */
export type RecordedCallStatus = "ok" | "error" | "aborted";

/** One model call the gateway served (or read from an OpenTelemetry trace), as recorded. */
export interface RecordedCall {
  /** The rollout (episode) the call belongs to. */
  rolloutId: string;
  /** Position of the call in its episode, from 0, in the order the calls started. */
  index: number;
  /** The request as the client sent it (validated; extra fields kept). */
  request: ChatCompletionRequest;
  /**
   * What the model answered: the whole result of a successful call (with `tokenIds`, `tokenLogprobs` and
   * `promptTokenIds` when the model has them), or what was streamed before an abort or a failure.
   */
  result?: ChatCompletionResult;
  /** `"ok"`, `"error"` (the model or upstream failed) or `"aborted"` (the client went away). */
  status: RecordedCallStatus;
  /** Why the call failed or was aborted; `status` is the HTTP status the gateway or the upstream gave. */
  error?: { message: string; status?: number };
  /** True when the client asked for a server-sent-events stream. */
  streamed: boolean;
  /** When the call started, milliseconds since the epoch. */
  startedAt: number;
  /** How long the call took, in milliseconds. */
  latencyMs: number;
  /** Where the call was seen: served by the gateway, or read from an OTLP trace. @default "gateway" */
  source?: "gateway" | "otlp";
}

/** Why an episode ended. */
export type EpisodeEndReason = "end" | "reward" | "idle" | "close";

/** All the calls of one agent run (one rollout id), with its rewards. */
export interface GatewayEpisode {
  /** The rollout id: from the `/rollouts/{rolloutId}/v1` path, the `x-orbiter-rollout-id` header, or generated. */
  rolloutId: string;
  /** The finished calls, ordered by `index`. */
  calls: RecordedCall[];
  /** Rewards posted for the episode, in order. */
  rewards: Array<{ value: number; name?: string }>;
  /** `"open"` until the episode ends. */
  status: "open" | "ended";
  /** Why the episode ended, once it has. */
  endReason?: EpisodeEndReason;
}
