import {
  ChatMessage,
  InvalidArgumentError,
  JsonObject,
  parseWith,
  type TrajectoryItem,
  type TrajectoryItemInput,
} from "@orbiter/types";
import { z } from "zod";
import { validateItem } from "../internal/item-validator.js";

/** Options of {@link captureMessages}: the reward and the other fields of the item to build. */
export const CaptureMessagesOptions = z.strictObject({
  /** How good the last assistant turn was. Must be finite. */
  reward: z.number(),
  /** Item id. @default a random UUID */
  id: z.string().min(1).optional(),
  /** Capture time in milliseconds since the epoch. @default Date.now() */
  timestamp: z.number().int().nonnegative().optional(),
  /** The task the conversation belongs to. */
  taskId: z.string().optional(),
  /** The agent that answered. */
  agentId: z.string().optional(),
  /** The episode the turn belongs to. */
  episodeId: z.string().optional(),
  /** Position of the turn inside its episode, from 0. */
  step: z.number().int().nonnegative().optional(),
  /** Outcome label, e.g. `"success"`. */
  status: z.string().optional(),
  /** Free-form JSON metadata. @default {} */
  metadata: JsonObject.optional(),
});
/** Options of {@link captureMessages}, as accepted. */
export type CaptureMessagesOptions = z.input<typeof CaptureMessagesOptions>;

const MessageList = z.array(ChatMessage);

function contentText(content: ChatMessage["content"]): string {
  if (content === undefined || content === null) return "";
  if (typeof content === "string") return content;
  return content.map((part) => part.text).join("");
}

/**
 * The text of one turn: its content, then one `name(arguments)` line per tool call (the form of a
 * captured action, e.g. `search({"query":"Python"})`).
 */
export function renderTurn(message: ChatMessage): string {
  const lines: string[] = [];
  const text = contentText(message.content);
  if (text !== "") lines.push(text);
  for (const call of message.tool_calls ?? [])
    lines.push(`${call.function.name}(${call.function.arguments})`);
  return lines.join("\n");
}

/**
 * A conversation as plain text, one block per message: `role: text`, with the speaker's name as
 * `role (name)` and a tool result's call id as `tool [call_id]`.
 */
export function renderConversation(messages: ReadonlyArray<ChatMessage>): string {
  return messages
    .map((message) => {
      let label: string = message.role;
      if (message.name !== undefined) label += ` (${message.name})`;
      if (message.tool_call_id !== undefined) label += ` [${message.tool_call_id}]`;
      return `${label}: ${renderTurn(message)}`;
    })
    .join("\n");
}

/**
 * Builds the item input (not yet validated) for {@link captureMessages}; shared with the dataset method.
 * @internal
 */
export function messagesToItemInput(messages: unknown, options: unknown): TrajectoryItemInput {
  const list = parseWith(MessageList, messages, { what: "message list", path: "messages" });
  const parsed = parseWith(CaptureMessagesOptions, options, {
    what: "captureMessages options",
    path: "options",
  });
  let last = -1;
  for (let index = list.length - 1; index >= 0; index--) {
    if (list[index]?.role === "assistant") {
      last = index;
      break;
    }
  }
  if (last === -1) {
    throw new InvalidArgumentError(
      'Invalid message list: "messages" has no assistant turn to use as the action',
      {
        field: "messages",
      },
    );
  }
  const input: TrajectoryItemInput = {
    state: renderConversation(list.slice(0, last)),
    action: renderTurn(list[last] as ChatMessage),
    reward: parsed.reward,
    messages: list,
  };
  if (parsed.id !== undefined) input.id = parsed.id;
  if (parsed.timestamp !== undefined) input.timestamp = parsed.timestamp;
  if (parsed.metadata !== undefined) input.metadata = parsed.metadata;
  if (parsed.taskId !== undefined) input.taskId = parsed.taskId;
  if (parsed.agentId !== undefined) input.agentId = parsed.agentId;
  if (parsed.episodeId !== undefined) input.episodeId = parsed.episodeId;
  if (parsed.step !== undefined) input.step = parsed.step;
  if (parsed.status !== undefined) input.status = parsed.status;
  return input;
}

/**
 * Builds a validated trajectory item from an OpenAI-style message list: `state` is the conversation before
 * the last assistant turn (rendered by {@link renderConversation}), `action` is that turn's content and tool
 * calls (rendered by {@link renderTurn}), and `messages` keeps the whole list. Throws `InvalidArgumentError`
 * naming the field when a message is malformed or there is no assistant turn.
 *
 * @example
 * ```ts
 * const item = captureMessages(
 *   [
 *     { role: "user", content: "What is 2+2?" },
 *     { role: "assistant", content: null,
 *       tool_calls: [{ id: "c1", type: "function", function: { name: "calc", arguments: '{"x":"2+2"}' } }] },
 *   ],
 *   { reward: 1, taskId: "math" },
 * );
 * item.state;  // "user: What is 2+2?"
 * item.action; // 'calc({"x":"2+2"})'
 * ```
 */
export function captureMessages(
  messages: ReadonlyArray<ChatMessage>,
  options: CaptureMessagesOptions,
): TrajectoryItem {
  return validateItem(messagesToItemInput(messages, options), { what: "trajectory item" });
}
