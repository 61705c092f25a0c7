import {
  type ChatMessage,
  ChatMessage as ChatMessageSchema,
  InvalidArgumentError,
  parseWith,
  type ToolDefinition,
  ToolDefinition as ToolDefinitionSchema,
} from "@orbiter/types";
import { z } from "zod";
import { conversationSequence } from "../agent/episode-sequence.js";
import type { Policy } from "../model/policy.js";
import {
  fineTuneSequences,
  SftOptions,
  type SftOptionsInput,
  type SftResult,
} from "./supervised-fine-tune.js";

/** A recorded multi-turn conversation: its messages and the tools it could call. */
export interface Conversation {
  messages: ChatMessage[];
  tools?: ToolDefinition[];
}

/** The fields of a trajectory item (e.g. a gateway JSONL line) that carry a conversation. */
export interface ConversationItem {
  episodeId?: string | undefined;
  step?: number | undefined;
  status?: string | undefined;
  messages?: ChatMessage[] | undefined;
  metadata?: Record<string, unknown> | undefined;
}

/** What {@link supervisedFineTuneEpisodes} accepts: conversations, trajectory items, or a dataset of items. */
export type EpisodeSftInput =
  | ReadonlyArray<Conversation>
  | ReadonlyArray<ConversationItem>
  | { readonly items: ReadonlyArray<ConversationItem> };

const ToolList = z.array(ToolDefinitionSchema);
const ConversationSchema = z.strictObject({
  messages: z.array(ChatMessageSchema).min(1),
  tools: ToolList.optional(),
});

/**
 * One conversation per episode from trajectory items such as the gateway records (one item per call, `step` =
 * call index, `messages` = the request's messages and the reply, `metadata.tools` = the tools offered): per
 * `episodeId`, the latest successful item whose messages end with an assistant reply holds the whole
 * conversation. Items without an `episodeId` are conversations of their own; items without messages, failed
 * ones (`status` other than `success`) and episodes with no such item are skipped.
 */
export function conversationsFromItems(items: ReadonlyArray<ConversationItem>): Conversation[] {
  const latest = new Map<string, ConversationItem>();
  items.forEach((item, index) => {
    const messages = item.messages;
    if (messages === undefined || messages.length === 0) return;
    if (item.status !== undefined && item.status !== "success") return;
    if (messages.at(-1)?.role !== "assistant") return;
    const key = item.episodeId ?? `#${index}`;
    const previous = latest.get(key);
    if (previous === undefined || (item.step ?? 0) >= (previous.step ?? 0)) latest.set(key, item);
  });
  return [...latest.values()].map((item) => {
    const tools = ToolList.safeParse(item.metadata?.tools);
    return {
      messages: [...(item.messages as ChatMessage[])],
      ...(tools.success && tools.data.length > 0 ? { tools: tools.data } : {}),
    };
  });
}

/** The conversations of any accepted input, checked (an `InvalidArgumentError` names the bad entry). */
function toConversations(input: EpisodeSftInput): Conversation[] {
  const list: ReadonlyArray<unknown> = Array.isArray(input)
    ? input
    : (input as { items?: unknown }).items !== undefined && Array.isArray((input as { items: unknown }).items)
      ? ((input as { items: unknown[] }).items as unknown[])
      : (() => {
          throw new InvalidArgumentError("episodes must be an array of conversations or trajectory items", {
            field: "episodes",
          });
        })();
  const isItemList = list.some(
    (entry) =>
      entry !== null &&
      typeof entry === "object" &&
      ("episodeId" in entry || "state" in entry || "step" in entry || "metadata" in entry),
  );
  if (isItemList) return conversationsFromItems(list as ReadonlyArray<ConversationItem>);
  return list.map((entry, index) =>
    parseWith(ConversationSchema, entry, { what: "conversation", path: `episodes[${index}]` }),
  ) as Conversation[];
}

/** What {@link supervisedFineTuneEpisodes} returns: the SFT result and what the context rule did. */
export interface EpisodeSftResult extends SftResult {
  /** Conversations trained on. */
  conversations: number;
  /** Conversations cut at the context length (their first `contextLength` tokens kept). */
  truncated: number;
  /** Conversations left out because no assistant token fit in the context. */
  dropped: number;
}

/**
 * Supervised fine-tuning on recorded multi-turn episodes (the warm start of agent RL): every conversation is
 * rendered in the chat format with its tools, and the loss is the cross-entropy of the assistant tokens only
 * (their text, tool calls and end-of-turn token); system, user and tool-result tokens are context. A conversation
 * longer than the context keeps its first `contextLength` tokens; one with no assistant token left is dropped.
 *
 * @example
 * ```ts
 * const items = await readJsonl("gateway-calls.jsonl"); // or a TrajectoryDataset
 * const result = await supervisedFineTuneEpisodes(policy, items, { epochs: 5, learningRate: 3e-3 });
 * ```
 */
export async function supervisedFineTuneEpisodes(
  policy: Policy,
  episodes: EpisodeSftInput,
  options: SftOptionsInput = {},
): Promise<EpisodeSftResult> {
  const parsed = parseWith(SftOptions, options, {
    what: "supervisedFineTuneEpisodes options",
    path: "options",
  });
  if (policy.frozen) throw new InvalidArgumentError("Cannot fine-tune a frozen policy", { field: "policy" });
  const conversations = toConversations(episodes);
  let truncated = 0;
  let dropped = 0;
  const sequences = conversations.flatMap((conversation) => {
    const sequence = conversationSequence(policy.tokenizer, conversation.messages, {
      ...(conversation.tools ? { tools: conversation.tools } : {}),
      contextLength: policy.contextLength,
    });
    if (sequence === undefined) {
      dropped++;
      return [];
    }
    if (sequence.truncated) truncated++;
    return [{ ids: sequence.tokens, targetMask: sequence.lossMask }];
  });
  if (sequences.length === 0) {
    throw new InvalidArgumentError("No episode has an assistant message to learn from (within the context)", {
      field: "episodes",
    });
  }
  const result = await fineTuneSequences(policy, sequences, parsed);
  return { ...result, conversations: sequences.length, truncated, dropped };
}
