import { captureMessages, renderConversation, renderTurn } from "@orbiter/trajectory";
import { type ChatChoice, type JsonObject, type JsonValue, parseWith, TrajectoryItem } from "@orbiter/types";
import type { RecordedCall } from "../episodes/gateway-episode.js";
import { wereNotedPlain } from "./checked-messages.js";
import { arePlainChatMessages, isJsonObject, isPlainChatMessage } from "./plain-checks.js";

const STATUS = { ok: "success", error: "error", aborted: "aborted" } as const;

/** A number JSON can hold: non-finite values (a log-probability of -Infinity) become null. */
function finite(values: ReadonlyArray<number>): JsonValue[] {
  return values.map((value) => (Number.isFinite(value) ? value : null));
}

/** Sets `key` to a value that came from JSON (a request field), unless it is absent. */
function setIfPresent(meta: JsonObject, key: string, value: unknown): void {
  if (value !== undefined) meta[key] = value as JsonValue;
}

function choiceSummary(choice: ChatChoice): JsonObject {
  const out: JsonObject = {
    index: choice.index,
    message: choice.message as JsonObject,
    finishReason: choice.finishReason,
  };
  if (choice.tokenIds) out.tokenIds = choice.tokenIds;
  if (choice.tokenLogprobs) out.tokenLogprobs = finite(choice.tokenLogprobs);
  return out;
}

/** The first choice of a result (index 0, or the first listed). */
export function firstChoice(call: RecordedCall): ChatChoice | undefined {
  const choices = call.result?.choices ?? [];
  return choices.find((choice) => choice.index === 0) ?? choices[0];
}

/**
 * The metadata of a call's item: the model, tools and sampling settings asked for, the finish reason, usage,
 * latency, the other choices when `n > 1`, token ids and log-probabilities when present, and the error of a
 * failed call. Never a header or a key.
 */
export function callMetadata(call: RecordedCall): JsonObject {
  const { request, result } = call;
  const meta: JsonObject = {
    source: call.source ?? "gateway",
    rolloutId: call.rolloutId,
    model: request.model,
    streamed: call.streamed,
    latencyMs: Math.round(call.latencyMs * 1000) / 1000,
    startedAt: call.startedAt,
  };
  // Each only when present, in this order (no intermediate record: this runs on every call).
  setIfPresent(meta, "responseModel", result?.model);
  setIfPresent(meta, "responseId", result?.id);
  setIfPresent(meta, "tools", request.tools);
  setIfPresent(meta, "tool_choice", request.tool_choice);
  setIfPresent(meta, "parallel_tool_calls", request.parallel_tool_calls);
  setIfPresent(meta, "temperature", request.temperature);
  setIfPresent(meta, "top_p", request.top_p);
  setIfPresent(meta, "max_tokens", request.max_tokens ?? request.max_completion_tokens);
  setIfPresent(meta, "n", request.n);
  setIfPresent(meta, "seed", request.seed);
  setIfPresent(meta, "stop", request.stop);
  const choice = firstChoice(call);
  if (choice) {
    meta.finishReason = choice.finishReason;
    if (choice.tokenIds) meta.tokenIds = choice.tokenIds;
    if (choice.tokenLogprobs) meta.tokenLogprobs = finite(choice.tokenLogprobs);
    if (choice.logprobs) meta.logprobs = choice.logprobs;
  }
  if (result?.usage) meta.usage = { ...result.usage };
  if (result?.promptTokenIds) meta.promptTokenIds = result.promptTokenIds;
  const others = (result?.choices ?? []).filter((other) => other !== choice);
  if (others.length > 0) meta.otherChoices = others.map(choiceSummary);
  if (call.error) {
    meta.error = {
      message: call.error.message,
      ...(call.error.status === undefined ? {} : { status: call.error.status }),
    };
  }
  return meta;
}

/**
 * The trajectory item of one recorded call: `episodeId` = rollout id, `step` = call index, `messages` = the
 * request's messages followed by the assistant message of choice 0, `state` and `action` rendered as
 * `captureMessages` does, `reward` 0 (an episode's reward is written at its end as a revision of its last
 * item, see {@link rewardRevision}), `status` `"success"`, `"error"` or `"aborted"`.
 */
export function callToItem(call: RecordedCall, id: string): TrajectoryItem {
  const choice = firstChoice(call);
  const metadata = callMetadata(call);
  const timestamp = Math.floor(call.startedAt);
  const status = STATUS[call.status];
  if (
    choice?.message.role === "assistant" &&
    (wereNotedPlain(choice.message) || isPlainChatMessage(choice.message)) &&
    (wereNotedPlain(call.request.messages) || arePlainChatMessages(call.request.messages)) &&
    isJsonObject(metadata)
  ) {
    // Every part is known to be what the schema accepts as it is (checked when the call was served, or here):
    // the item is what captureMessages would build (state = the request's messages, action = the answer),
    // without zod parsing it all again.
    const { messages } = call.request;
    return {
      id,
      timestamp,
      state: renderConversation(messages),
      action: renderTurn(choice.message),
      reward: 0,
      metadata,
      episodeId: call.rolloutId,
      step: call.index,
      status,
      messages: [...messages, choice.message],
    };
  }
  const common = {
    id,
    timestamp,
    reward: 0,
    episodeId: call.rolloutId,
    step: call.index,
    status,
    metadata,
  };
  if (choice) return captureMessages([...call.request.messages, choice.message], common);
  // A call that failed before the model said anything: the state, and no action.
  return parseWith(
    TrajectoryItem,
    {
      ...common,
      state: renderConversation(call.request.messages),
      action: "",
      messages: call.request.messages,
    },
    { what: "recorded call" },
  );
}

/**
 * The revision of an episode's last item that carries the episode's reward: the same item (same `id`) with
 * `reward` = the sum of the posted rewards and `metadata.rewards` listing each. Appended to the JSONL file when
 * the episode ends; `TrajectoryDataset.fromJsonl` lets a later line with the same id replace the earlier one.
 */
export function rewardRevision(
  last: TrajectoryItem,
  rewards: ReadonlyArray<{ value: number; name?: string }>,
): TrajectoryItem {
  const total = rewards.reduce((sum, reward) => sum + reward.value, 0);
  return parseWith(
    TrajectoryItem,
    {
      ...last,
      reward: total,
      metadata: {
        ...last.metadata,
        rewards: rewards.map((reward) => ({
          value: reward.value,
          ...(reward.name === undefined ? {} : { name: reward.name }),
        })),
      },
    },
    { what: "reward revision" },
  );
}
