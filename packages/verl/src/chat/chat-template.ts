import type { ChatMessage, ToolDefinition } from "@orbiter/types";
import { CharTokenizer } from "../tokenizer/char-tokenizer.js";
import type { Tokenizer } from "../tokenizer/tokenizer.js";

/**
 * The control characters of the chat format: one private-use code point each, so that no ordinary text contains
 * them. Every marker is one token of a character tokenizer built with {@link chatTokenizer}.
 */
export const CHAT_MARKERS = {
  /** Starts a system message. */
  system: "\uE000",
  /** Starts a user message. */
  user: "\uE001",
  /** Starts an assistant message (and, at the end of a prompt, asks the policy for one). */
  assistant: "\uE002",
  /** Starts a tool-result message. */
  tool: "\uE003",
  /** Starts a tool call inside an assistant message: `CALL name ARGS {json}`. */
  call: "\uE004",
  /** Separates a tool call's name from its JSON arguments. */
  args: "\uE005",
  /** Starts the list of the tools the policy may call. */
  tools: "\uE006",
  /** Ends a message; it is encoded as the tokenizer's end-of-sequence token, which stops sampling. */
  end: "\uE007",
  /** Starts a developer message. */
  developer: "\uE008",
  /** Makes the next character literal: content that contains a marker is written with this before it. */
  escape: "\uE00F",
} as const;

const MARKER_SET = new Set<string>(Object.values(CHAT_MARKERS));

const ROLE_MARKERS: Record<ChatMessage["role"], string> = {
  system: CHAT_MARKERS.system,
  developer: CHAT_MARKERS.developer,
  user: CHAT_MARKERS.user,
  assistant: CHAT_MARKERS.assistant,
  tool: CHAT_MARKERS.tool,
};

/** Printable ASCII, tab and newline: what tool-call JSON and ordinary English text need. */
const BASE_CHARACTERS = `\t\n${Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join("")}`;

/** Every character of the chat format: the markers, printable ASCII, tab and newline. */
export const CHAT_ALPHABET = `${BASE_CHARACTERS}${Object.values(CHAT_MARKERS).join("")}`;

/**
 * A character tokenizer that covers the chat format: every marker, printable ASCII (so tool-call JSON always
 * encodes), and every character of `corpus`. Characters outside it encode to the unknown token.
 *
 * @example
 * ```ts
 * const tokenizer = chatTokenizer(["Zürich", "São Paulo"]);
 * ```
 */
export function chatTokenizer(corpus: Iterable<string> = []): CharTokenizer {
  return CharTokenizer.fromCorpus([CHAT_ALPHABET, ...corpus]);
}

/** Writes `text` so that none of its characters reads as a marker (each marker character gets an escape first). */
export function escapeChatText(text: string): string {
  let out = "";
  for (const character of text) {
    if (MARKER_SET.has(character)) out += CHAT_MARKERS.escape;
    out += character;
  }
  return out;
}

/** The text of a message's content: a string as is, text parts joined, nothing for `null` / missing. */
export function contentText(content: ChatMessage["content"]): string {
  if (content === undefined || content === null) return "";
  if (typeof content === "string") return content;
  return content.map((part) => part.text).join("");
}

/** Options of {@link renderChat}. */
export interface RenderChatOptions {
  /** Tools the policy may call; rendered as the first message (`TOOLS name,name…`). @default none */
  tools?: ReadonlyArray<ToolDefinition>;
  /** Render each tool's JSON parameter schema after its name, not only its name. @default false */
  toolSchemas?: boolean;
  /** End with the assistant marker, so the policy's next tokens are an assistant message. @default false */
  addGenerationPrompt?: boolean;
}

/**
 * Renders a conversation in the chat format of the policy. Each message is
 * `ROLE content END` (ROLE is the marker of its role); an assistant message is
 * `ASSISTANT content (CALL name ARGS arguments)* END`, its tool calls after its text, the arguments as the JSON
 * string they were written as. Tools, when given, come first as `TOOLS name,name END` (with
 * `toolSchemas`, `name ARGS {schema}` separated by newlines). Content characters that are markers are escaped,
 * so any text round-trips through {@link parseChat}. Not rendered: message `name`s and tool-call ids (the parser
 * numbers the calls and pairs tool results with them in order). `END` is the tokenizer's end-of-sequence token
 * in {@link encodeChat}: a sampled assistant message stops there.
 *
 * @example
 * ```ts
 * renderChat([{ role: "user", content: "weather in Oslo?" }], { addGenerationPrompt: true });
 * // "\uE001weather in Oslo?\uE007\uE002"
 * ```
 */
export function renderChat(messages: ReadonlyArray<ChatMessage>, options: RenderChatOptions = {}): string {
  let out = "";
  const tools = options.tools ?? [];
  if (tools.length > 0) {
    const entries = tools.map((tool) =>
      options.toolSchemas
        ? `${escapeChatText(tool.function.name)}${CHAT_MARKERS.args}${escapeChatText(JSON.stringify(tool.function.parameters ?? {}))}`
        : escapeChatText(tool.function.name),
    );
    out += `${CHAT_MARKERS.tools}${entries.join(options.toolSchemas ? "\n" : ",")}${CHAT_MARKERS.end}`;
  }
  for (const message of messages) out += renderMessage(message);
  if (options.addGenerationPrompt) out += CHAT_MARKERS.assistant;
  return out;
}

/** One message in the chat format, `END` included. */
export function renderMessage(message: ChatMessage): string {
  let out = ROLE_MARKERS[message.role] + escapeChatText(contentText(message.content));
  if (message.role === "assistant") {
    for (const call of message.tool_calls ?? []) {
      out += `${CHAT_MARKERS.call}${escapeChatText(call.function.name)}${CHAT_MARKERS.args}${escapeChatText(call.function.arguments)}`;
    }
  }
  return out + CHAT_MARKERS.end;
}

/**
 * Token ids of chat-format text: runs of text through the tokenizer, each unescaped `END` marker as the
 * end-of-sequence id. With `addBos` (the default) the begin-of-sequence id comes first.
 */
export function encodeChat(tokenizer: Tokenizer, text: string, options: { addBos?: boolean } = {}): number[] {
  const ids: number[] = options.addBos === false ? [] : [tokenizer.bosId];
  let run = "";
  let escaped = false;
  for (const character of text) {
    if (!escaped && character === CHAT_MARKERS.end) {
      if (run !== "") ids.push(...tokenizer.encode(run));
      ids.push(tokenizer.eosId);
      run = "";
      continue;
    }
    escaped = !escaped && character === CHAT_MARKERS.escape;
    run += character;
  }
  if (run !== "") ids.push(...tokenizer.encode(run));
  return ids;
}

/** Token ids of a whole conversation (BOS first), as {@link renderChat} then {@link encodeChat}. */
export function encodeMessages(
  tokenizer: Tokenizer,
  messages: ReadonlyArray<ChatMessage>,
  options: RenderChatOptions = {},
): number[] {
  return encodeChat(tokenizer, renderChat(messages, options));
}

/** Whether `character` is one of the {@link CHAT_MARKERS}. */
export function isChatMarker(character: string): boolean {
  return MARKER_SET.has(character);
}
