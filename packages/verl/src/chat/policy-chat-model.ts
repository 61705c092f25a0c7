import type {
  ChatCompletionRequest,
  ChatCompletionResult,
  ChatMessage,
  ChatModel,
  ChatModelCallOptions,
  ChatStreamEvent,
} from "@orbiter/types";
import type { Policy } from "../model/policy.js";
import { type ChatOptions, ChatPolicy, type ChatResult } from "./chat-policy.js";

/** The chat session of each policy, made on its first call (it batches the calls that arrive together). */
const sessions = new WeakMap<Policy, ChatPolicy>();

function sessionOf(policy: Policy): ChatPolicy {
  let session = sessions.get(policy);
  if (session === undefined) {
    session = new ChatPolicy(policy);
    sessions.set(policy, session);
  }
  return session;
}

/**
 * What makes a policy chat and serve as a `ChatModel` (`startGateway({ model: policy })`): `chat`, `complete`,
 * `stream` and `listModels`, answered by a {@link ChatPolicy} of the policy with its defaults (model id
 * `orbiter-policy`, 64 new tokens unless asked, calls that arrive together sampled as one batch). Extended by
 * `TransformerPolicy`; for other settings (a model id, imposed sampling settings, `maxTurns`, counters) wrap the
 * policy in a `ChatPolicy` of your own.
 */
export abstract class PolicyChatModel implements ChatModel {
  /**
   * Samples an assistant answer to `messages` (rendered with the chat template, `tools` first) and parses it
   * into a message with `content` and/or `tool_calls`; each choice carries the sampled token ids and their
   * log-probabilities.
   *
   * @throws AbortedError when `options.signal` aborts before the answer is ready
   * @example
   * ```ts
   * const { choices } = await policy.chat([{ role: "user", content: "Oslo?" }], { tools, seed: 1 });
   * choices[0]?.message.tool_calls; // the calls it made, arguments as JSON text
   * choices[0]?.tokenIds; // the ids the sampler drew
   * ```
   */
  chat(this: Policy, messages: ReadonlyArray<ChatMessage>, options: ChatOptions = {}): Promise<ChatResult> {
    return sessionOf(this).chat(messages, options);
  }

  /** Answers a chat-completions request (the `ChatModel` contract); see {@link ChatPolicy.complete}. */
  complete(
    this: Policy,
    request: ChatCompletionRequest,
    options: ChatModelCallOptions = {},
  ): Promise<ChatCompletionResult> {
    return sessionOf(this).complete(request, options);
  }

  /** Streams the answer to a chat-completions request; see {@link ChatPolicy.stream}. */
  stream(
    this: Policy,
    request: ChatCompletionRequest,
    options: ChatModelCallOptions = {},
  ): AsyncGenerator<ChatStreamEvent> {
    return sessionOf(this).stream(request, options);
  }

  /** The one model id the policy answers as: `orbiter-policy`. */
  listModels(this: Policy): Promise<string[]> {
    return sessionOf(this).listModels();
  }
}
