import {
  AbortedError,
  type ChatChoice,
  ChatCompletionRequest,
  type ChatCompletionResult,
  type ChatMessage,
  type ChatModel,
  type ChatModelCallOptions,
  type ChatStreamEvent,
  deriveSeed,
  type FinishReason,
  parseWith,
  type ToolDefinition,
} from "@orbiter/types";
import type { Policy } from "../model/policy.js";
import type { GenerationResult } from "../rollout/generate-options.js";
import { encodeMessages } from "./chat-template.js";
import { parseAssistantOutput } from "./parse-assistant-output.js";

/** Per-call options of {@link ChatPolicy.chat}. */
export interface ChatOptions {
  /** Tools the policy may call (rendered at the start of the prompt). @default none */
  tools?: ReadonlyArray<ToolDefinition>;
  /** Most tokens of the answer (fewer when the context is nearly full). @default the policy's `maxNewTokens` */
  maxNewTokens?: number;
  /** Sampling temperature; 0 samples greedily (log-probs are then reported at temperature 1). @default 1 */
  temperature?: number;
  /** Nucleus mass (1 = off). @default 1 */
  topP?: number;
  /** Take the most likely token. @default false */
  greedy?: boolean;
  /** Sampler seed. @default derived from the policy's seed and a call counter */
  seed?: number;
  /** Answers to sample. @default 1 */
  n?: number;
  /** Aborts the call (it rejects with `AbortedError`). */
  signal?: AbortSignal;
}

/** One sampled answer of {@link ChatPolicy.chat}. */
export interface ChatTurn {
  /** The assistant message parsed from the sampled text. */
  message: ChatMessage & { role: "assistant" };
  /** `tool_calls` when it called tools, `length` when it ran out of tokens or context, else `stop`. */
  finishReason: FinishReason;
  /** The token ids the sampler drew (the end-of-sequence id included when it stopped). */
  tokenIds: number[];
  /** The log-probability of each drawn token under `softmax(logits / temperature)`. */
  tokenLogprobs: number[];
  /** Tool calls in the output that could not be read (the output then came back as text). */
  malformedToolCalls: number;
}

/** What {@link ChatPolicy.chat} returns: the answers and the prompt they continue. */
export interface ChatResult {
  /** One entry per sampled answer (`n`). */
  choices: ChatTurn[];
  /** The token ids of the rendered prompt (BOS first, the assistant marker last). */
  promptTokenIds: number[];
  /** Whether the prompt left no room for an answer in the context (the answers are then empty). */
  overflow: boolean;
}

/** Sampling settings the owner imposes on every call (a trainer samples with its own temperature). */
export interface ChatSamplingOverride {
  temperature?: number;
  topP?: number;
  topK?: number;
  greedy?: boolean;
  /** Cap on the answer length, whatever the request asks for. */
  maxNewTokens?: number;
  /**
   * Most assistant turns of a conversation: a request that already holds this many assistant messages is
   * answered with an empty message of finish reason `length` (counted in `counters.turnLimited`), which ends a
   * tool loop.
   */
  maxTurns?: number;
}

/** Options of {@link ChatPolicy}. */
export interface ChatPolicyOptions {
  /** The model id it answers as and lists at `/v1/models`. @default "orbiter-policy" */
  modelName?: string;
  /** Default answer length in tokens. @default 64 */
  maxNewTokens?: number;
  /** Base seed of the calls that bring none. @default 0 */
  seed?: number;
  /** Settings that override the request's (temperature, top-p/k, greedy, a length cap). @default none */
  override?: ChatSamplingOverride;
  /**
   * What samples the batches: a `DataParallelGroup` of the policy splits each batch's rows across worker
   * threads (every row draws from its own seeded stream, so the tokens are those the policy would sample).
   * @default the policy itself
   */
  generator?: ChatGenerator;
}

/** Something that samples like `policy.generate` (the policy, or a group of threads holding its replicas). */
export type ChatGenerator = Pick<Policy, "generate">;

/** Counters of a {@link ChatPolicy} since it was made (or {@link ChatPolicy.resetCounters}). */
export interface ChatPolicyCounters {
  /** Calls answered. */
  calls: number;
  /** Answers whose tool calls could not be read. */
  malformedToolCalls: number;
  /** Calls whose prompt filled the context (answered empty, `finishReason: "length"`). */
  overflows: number;
  /** `generate` batches run (concurrent calls share one). */
  batches: number;
  /** Calls answered empty because the conversation reached `override.maxTurns`. */
  turnLimited: number;
}

interface PendingCall {
  promptIds: number[];
  limit: number;
  n: number;
  key: string;
  sampling: { temperature: number; topP: number; topK: number; greedy: boolean };
  seed: number | undefined;
  firstCallIndex: number;
  resolve: (result: ChatResult) => void;
  reject: (error: unknown) => void;
  signal: AbortSignal | undefined;
}

/**
 * A policy that chats: renders OpenAI messages (and tools) in the chat format, samples an answer and parses it
 * back into an assistant message with tool calls, returning the sampled token ids and log-probs. It implements
 * the `ChatModel` contract, so `startGateway({ model: chatPolicy })` serves the policy at `/v1/chat/completions`.
 * Calls that arrive together (concurrent episodes) are sampled as one batch. A prompt that fills the context is
 * answered with an empty message and `finishReason: "length"` (counted in `counters.overflows`).
 *
 * @example
 * ```ts
 * const chat = new ChatPolicy(policy, { maxNewTokens: 48 });
 * const { choices } = await chat.chat([{ role: "user", content: "weather in Oslo?" }], { tools, seed: 1 });
 * choices[0]?.message.tool_calls; // [{ id: "call_0", type: "function", function: { name: "weather", ... } }]
 * ```
 */
export class ChatPolicy implements ChatModel {
  /** The policy that samples. */
  readonly policy: Policy;
  /** The model id. */
  readonly modelName: string;
  /** Default answer length. */
  readonly maxNewTokens: number;
  /** Sampling settings imposed on every call; the trainer sets them. */
  override: ChatSamplingOverride;
  private readonly generator: ChatGenerator;
  private readonly seed: number;
  private callCounter = 0;
  private queue: PendingCall[] = [];
  private running: Promise<void> | undefined;
  private readonly stats: ChatPolicyCounters = {
    calls: 0,
    malformedToolCalls: 0,
    overflows: 0,
    batches: 0,
    turnLimited: 0,
  };

  constructor(policy: Policy, options: ChatPolicyOptions = {}) {
    this.policy = policy;
    this.modelName = options.modelName ?? "orbiter-policy";
    this.maxNewTokens = options.maxNewTokens ?? 64;
    this.seed = options.seed ?? 0;
    this.override = { ...(options.override ?? {}) };
    this.generator = options.generator ?? policy;
  }

  /** Counters since creation or the last reset. */
  get counters(): Readonly<ChatPolicyCounters> {
    return { ...this.stats };
  }

  /** Sets every counter back to 0. */
  resetCounters(): void {
    this.stats.calls = 0;
    this.stats.malformedToolCalls = 0;
    this.stats.overflows = 0;
    this.stats.batches = 0;
    this.stats.turnLimited = 0;
  }

  /** The one model id of this policy. */
  async listModels(): Promise<string[]> {
    return [this.modelName];
  }

  /**
   * Samples an assistant answer to `messages`.
   *
   * @throws AbortedError when `signal` aborts before the answer is ready
   */
  chat(messages: ReadonlyArray<ChatMessage>, options: ChatOptions = {}): Promise<ChatResult> {
    const { override } = this;
    const promptIds = encodeMessages(this.policy.tokenizer, messages, {
      ...(options.tools ? { tools: options.tools } : {}),
      addGenerationPrompt: true,
    });
    const requested = Math.min(options.maxNewTokens ?? this.maxNewTokens, override.maxNewTokens ?? Infinity);
    const limit = Math.min(requested, this.policy.contextLength - promptIds.length);
    // Temperature 0 means greedy (as in the OpenAI API); greedy answers report log-probs at temperature 1.
    const temperature = override.temperature ?? options.temperature ?? 1;
    const greedy = override.greedy ?? options.greedy ?? temperature === 0;
    const sampling = {
      temperature: greedy && temperature === 0 ? 1 : temperature,
      topP: override.topP ?? options.topP ?? 1,
      topK: override.topK ?? 0,
      greedy,
    };
    const firstCallIndex = messages.reduce((sum, message) => sum + (message.tool_calls?.length ?? 0), 0);
    const n = options.n ?? 1;
    this.stats.calls++;
    if (options.signal?.aborted) return Promise.reject(new AbortedError("The chat call was aborted"));
    const turns = messages.filter((message) => message.role === "assistant").length;
    const turnLimited = override.maxTurns !== undefined && turns >= override.maxTurns;
    if (turnLimited) this.stats.turnLimited++;
    else if (limit < 1) this.stats.overflows++;
    if (limit < 1 || turnLimited) {
      const empty: ChatTurn = {
        message: { role: "assistant", content: "" },
        finishReason: "length",
        tokenIds: [],
        tokenLogprobs: [],
        malformedToolCalls: 0,
      };
      return Promise.resolve({
        choices: Array.from({ length: n }, () => ({ ...empty })),
        promptTokenIds: promptIds,
        overflow: !turnLimited,
      });
    }
    return new Promise<ChatResult>((resolve, reject) => {
      this.queue.push({
        promptIds,
        limit,
        n,
        key: `${sampling.temperature}|${sampling.topP}|${sampling.topK}|${sampling.greedy}|${n}`,
        sampling,
        seed: options.seed,
        firstCallIndex,
        resolve,
        reject,
        signal: options.signal,
      });
      this.schedule();
    });
  }

  /** Answers a chat-completions request (the `ChatModel` contract); `n` choices, tools, sampling settings. */
  async complete(
    request: ChatCompletionRequest,
    options: ChatModelCallOptions = {},
  ): Promise<ChatCompletionResult> {
    const parsed = parseWith(ChatCompletionRequest, request, {
      what: "chat-completions request",
      path: "request",
    });
    const maxTokens = parsed.max_completion_tokens ?? parsed.max_tokens ?? undefined;
    const result = await this.chat(parsed.messages, {
      ...(parsed.tools && parsed.tool_choice !== "none" ? { tools: parsed.tools } : {}),
      ...(maxTokens === undefined ? {} : { maxNewTokens: maxTokens }),
      ...(parsed.temperature == null
        ? {}
        : { temperature: parsed.temperature, greedy: parsed.temperature === 0 }),
      ...(parsed.top_p == null ? {} : { topP: parsed.top_p }),
      ...(parsed.seed == null ? {} : { seed: parsed.seed }),
      n: parsed.n ?? 1,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const choices: ChatChoice[] = result.choices.map((turn, index) => ({
      index,
      message: turn.message,
      finishReason: turn.finishReason,
      tokenIds: turn.tokenIds,
      tokenLogprobs: turn.tokenLogprobs,
    }));
    const completionTokens = result.choices.reduce((sum, turn) => sum + turn.tokenIds.length, 0);
    return {
      model: this.modelName,
      choices,
      promptTokenIds: result.promptTokenIds,
      usage: {
        promptTokens: result.promptTokenIds.length,
        completionTokens,
        totalTokens: result.promptTokenIds.length + completionTokens,
      },
    };
  }

  /**
   * Streams the answer to a chat-completions request (the `ChatModel` contract). The answers are sampled as one
   * batch, so each choice arrives as one delta (its text or tool calls, with the sampled ids and log-probs),
   * followed by the `done` event that holds the whole result.
   */
  async *stream(
    request: ChatCompletionRequest,
    options: ChatModelCallOptions = {},
  ): AsyncGenerator<ChatStreamEvent> {
    const result = await this.complete(request, options);
    for (const choice of result.choices) {
      const { content, tool_calls: calls } = choice.message;
      yield {
        type: "delta",
        choiceIndex: choice.index,
        content: typeof content === "string" ? content : "",
        ...(calls?.length
          ? {
              toolCalls: calls.map((call, index) => ({
                index,
                id: call.id,
                type: "function" as const,
                function: { name: call.function.name, arguments: call.function.arguments },
              })),
            }
          : {}),
        tokenIds: choice.tokenIds ?? [],
        tokenLogprobs: choice.tokenLogprobs ?? [],
      };
    }
    yield { type: "done", result };
  }

  private schedule(): void {
    if (this.running !== undefined) return;
    this.running = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.drain())
      .finally(() => {
        this.running = undefined;
        if (this.queue.length > 0) this.schedule();
      });
  }

  /** Samples every queued call, in batches of calls with the same settings whose prompts fit together. */
  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const live = this.queue.filter((call) => {
        if (!call.signal?.aborted) return true;
        call.reject(new AbortedError("The chat call was aborted"));
        return false;
      });
      if (live.length === 0) {
        this.queue = [];
        return;
      }
      const key = (live[0] as PendingCall).key;
      const same = live.filter((call) => call.key === key);
      const width = Math.max(...same.map((call) => call.limit));
      const context = this.policy.contextLength;
      // The batch is left-padded to its longest prompt: a call joins when its prompt leaves room for the batch's
      // answer length; the others wait for the next batch.
      let batch = same.filter((call) => call.promptIds.length + width <= context);
      const longest = Math.max(...batch.map((call) => call.promptIds.length));
      const maxNewTokens = Math.min(width, context - longest);
      batch = batch.filter((call) => call.promptIds.length <= context - maxNewTokens);
      this.queue = live.filter((call) => !batch.includes(call));
      const first = batch[0] as PendingCall;
      const seed = first.seed ?? deriveSeed(this.seed, "chat", this.callCounter);
      this.callCounter++;
      this.stats.batches++;
      let generation: GenerationResult;
      try {
        generation = await this.generator.generate(
          batch.map((call) => call.promptIds),
          { maxNewTokens, n: first.n, ...first.sampling, seed },
        );
      } catch (error) {
        for (const call of batch) call.reject(error);
        continue;
      }
      batch.forEach((call, index) => {
        if (call.signal?.aborted) {
          call.reject(new AbortedError("The chat call was aborted"));
          return;
        }
        const choices: ChatTurn[] = [];
        for (let k = 0; k < call.n; k++) choices.push(this.turn(generation, index * call.n + k, call));
        call.resolve({ choices, promptTokenIds: call.promptIds, overflow: false });
      });
    }
  }

  /** One answer: the row's ids cut to the call's own limit, parsed into a message. */
  private turn(generation: GenerationResult, row: number, call: PendingCall): ChatTurn {
    const { tokenizer } = this.policy;
    const sampled = (generation.responses[row] as number[]).slice(0, call.limit);
    const logprobs = (generation.logProbs[row] as number[]).slice(0, sampled.length);
    const stopped = sampled.at(-1) === tokenizer.eosId;
    const text = tokenizer.decode(stopped ? sampled.slice(0, -1) : sampled);
    const parsed = parseAssistantOutput(text, { firstCallIndex: call.firstCallIndex });
    this.stats.malformedToolCalls += parsed.malformedToolCalls;
    const finishReason: FinishReason = !stopped
      ? "length"
      : parsed.message.tool_calls !== undefined
        ? "tool_calls"
        : "stop";
    return {
      message: parsed.message,
      finishReason,
      tokenIds: sampled,
      tokenLogprobs: logprobs,
      malformedToolCalls: parsed.malformedToolCalls,
    };
  }
}
