import type {
  ChatChoice,
  ChatCompletionResult,
  ChatMessage,
  ChatStreamEvent,
  ChatUsage,
  FinishReason,
  JsonObject,
  JsonValue,
} from "@orbiter/types";

interface ToolCallParts {
  id: string;
  name: string;
  arguments: string;
}

interface ChoiceParts {
  content: string;
  sawContent: boolean;
  toolCalls: Map<number, ToolCallParts>;
  tokenIds: number[];
  tokenLogprobs: number[];
  logprobContent: JsonValue[];
  sawLogprobs: boolean;
  finishReason: FinishReason | undefined;
}

function newChoice(): ChoiceParts {
  return {
    content: "",
    sawContent: false,
    toolCalls: new Map(),
    tokenIds: [],
    tokenLogprobs: [],
    logprobContent: [],
    sawLogprobs: false,
    finishReason: undefined,
  };
}

/**
 * Builds a whole call out of its stream events: the text and tool-call fragments of every choice, their token
 * ids and log-probabilities, finish reasons and usage. What it holds at any time is what was streamed so far,
 * which is what an aborted stream is recorded with.
 */
export class StreamAccumulator {
  readonly #choices = new Map<number, ChoiceParts>();
  #usage: ChatUsage | undefined;
  #promptTokenIds: number[] | undefined;
  /** The completion id the model gave, if any. */
  id: string | undefined;
  /** The model that answered, if it said. */
  model: string | undefined;

  #choice(index: number): ChoiceParts {
    let parts = this.#choices.get(index);
    if (!parts) {
      parts = newChoice();
      this.#choices.set(index, parts);
    }
    return parts;
  }

  /** Number of events or fragments seen so far (0 means nothing was streamed). */
  get choiceCount(): number {
    return this.#choices.size;
  }

  /** Adds one delta event. */
  add(event: Extract<ChatStreamEvent, { type: "delta" }>): void {
    const parts = this.#choice(event.choiceIndex);
    if (event.content !== undefined) {
      parts.content += event.content;
      parts.sawContent = true;
    }
    for (const delta of event.toolCalls ?? []) {
      let call = parts.toolCalls.get(delta.index);
      if (!call) {
        call = { id: "", name: "", arguments: "" };
        parts.toolCalls.set(delta.index, call);
      }
      if (delta.id) call.id = delta.id;
      if (delta.function?.name) call.name += delta.function.name;
      if (delta.function?.arguments) call.arguments += delta.function.arguments;
    }
    if (event.tokenIds) parts.tokenIds.push(...event.tokenIds);
    if (event.tokenLogprobs) parts.tokenLogprobs.push(...event.tokenLogprobs);
    if (event.logprobs) {
      parts.sawLogprobs = true;
      const content = event.logprobs.content;
      if (Array.isArray(content)) parts.logprobContent.push(...content);
    }
  }

  /** Sets why a choice stopped. */
  finish(choiceIndex: number, reason: FinishReason): void {
    this.#choice(choiceIndex).finishReason = reason;
  }

  /** The finish reason of a choice, if it has one yet. */
  finishReasonOf(choiceIndex: number): FinishReason | undefined {
    return this.#choices.get(choiceIndex)?.finishReason;
  }

  /** Records the call's token counts. */
  setUsage(usage: ChatUsage): void {
    this.#usage = usage;
  }

  /** Records the prompt's token ids. */
  setPromptTokenIds(ids: number[]): void {
    this.#promptTokenIds = ids;
  }

  /**
   * The call as streamed so far. A choice without a finish reason gets `fallback` (`"stop"` for a finished
   * stream; the caller records an aborted one as aborted whatever this says).
   */
  result(requestModel: string, fallback: FinishReason = "stop"): ChatCompletionResult {
    const choices: ChatChoice[] = [...this.#choices.entries()]
      .sort(([a], [b]) => a - b)
      .map(([index, parts]) => {
        const toolCalls = [...parts.toolCalls.entries()]
          .sort(([a], [b]) => a - b)
          .filter(([, call]) => call.name !== "")
          .map(([, call]) => ({
            id: call.id,
            type: "function" as const,
            function: { name: call.name, arguments: call.arguments },
          }));
        const message: ChatMessage & { role: "assistant" } = {
          role: "assistant",
          content: parts.sawContent || toolCalls.length === 0 ? parts.content : null,
        };
        if (toolCalls.length > 0) message.tool_calls = toolCalls;
        const choice: ChatChoice = {
          index,
          message,
          finishReason: parts.finishReason ?? (toolCalls.length > 0 ? "tool_calls" : fallback),
        };
        if (parts.tokenIds.length > 0) choice.tokenIds = parts.tokenIds;
        if (parts.tokenLogprobs.length > 0) choice.tokenLogprobs = parts.tokenLogprobs;
        if (parts.sawLogprobs) choice.logprobs = { content: parts.logprobContent } as JsonObject;
        return choice;
      });
    const result: ChatCompletionResult = { model: this.model ?? requestModel, choices };
    if (this.id !== undefined) result.id = this.id;
    if (this.#usage) result.usage = this.#usage;
    if (this.#promptTokenIds) result.promptTokenIds = this.#promptTokenIds;
    return result;
  }
}
