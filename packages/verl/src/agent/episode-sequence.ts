import type { ChatMessage, ToolDefinition } from "@orbiter/types";
import { encodeChat, renderChat, renderMessage } from "../chat/chat-template.js";
import type { Tokenizer } from "../tokenizer/tokenizer.js";
import type { EpisodeCall } from "./agent-episode.js";

/**
 * One training sequence of an episode: token ids (BOS first) with a loss mask that is 1 on the tokens the policy
 * produced (assistant turns, tool calls and the end-of-turn token included) and 0 on everything else (system,
 * user, tool results, markers of the template), and the log-prob the sampler drew each produced token with.
 */
export interface EpisodeSequence {
  /** Token ids, BOS first. */
  tokens: number[];
  /** 1 on produced tokens, aligned with `tokens`. */
  lossMask: number[];
  /** The sampled log-prob of each produced token (0 elsewhere), aligned with `tokens`. */
  logProbs: number[];
  /** Whether the sequence was cut at the context length. */
  truncated: boolean;
}

/** What {@link episodeSequences} returns. */
export interface EpisodeSequences {
  /** The sequences to train on (usually one per episode). */
  sequences: EpisodeSequence[];
  /** Answered calls whose prompt did not continue the sequence so far (each started a new sequence). */
  prefixBreaks: number;
  /** Sequences cut at the context length. */
  truncated: number;
  /** Sequences left out because no produced token fit in the context. */
  dropped: number;
}

/** Options of {@link episodeSequences}. */
export interface EpisodeSequenceOptions {
  /** Longest sequence the policy takes (its context length). */
  contextLength: number;
}

/**
 * Turns the calls of an episode into training sequences without re-tokenising anything the policy produced:
 * the first answered call gives `prompt ids + sampled ids`; each later call whose prompt ids start with the
 * sequence so far appends the new prompt ids (tool results, user turns: loss mask 0) and its sampled ids (mask 1).
 * A call whose prompt does not continue the sequence (the agent rewrote the history, or an answer re-renders
 * differently from what was sampled) starts a new sequence (counted in `prefixBreaks`). Only the first choice of
 * a call continues an episode; failed calls and calls without token ids are skipped.
 *
 * Overflow rule: a sequence longer than `contextLength` keeps its first `contextLength` tokens (counted in
 * `truncated`); one with no produced token left is dropped (counted in `dropped`).
 */
export function episodeSequences(
  calls: ReadonlyArray<EpisodeCall>,
  options: EpisodeSequenceOptions,
): EpisodeSequences {
  const sequences: EpisodeSequence[] = [];
  let prefixBreaks = 0;
  let current: EpisodeSequence | undefined;
  for (const call of calls) {
    const choice = call.result?.choices[0];
    const prompt = call.result?.promptTokenIds;
    if (call.status !== "ok" || choice === undefined || prompt === undefined) continue;
    const sampled = choice.tokenIds ?? [];
    const logProbs = choice.tokenLogprobs ?? [];
    if (sampled.length !== logProbs.length) continue;
    if (current !== undefined && startsWith(prompt, current.tokens)) {
      const added = prompt.slice(current.tokens.length);
      current.tokens.push(...added, ...sampled);
      current.lossMask.push(...added.map(() => 0), ...sampled.map(() => 1));
      current.logProbs.push(...added.map(() => 0), ...logProbs);
    } else {
      if (current !== undefined) {
        sequences.push(current);
        prefixBreaks++;
      }
      current = {
        tokens: [...prompt, ...sampled],
        lossMask: [...prompt.map(() => 0), ...sampled.map(() => 1)],
        logProbs: [...prompt.map(() => 0), ...logProbs],
        truncated: false,
      };
    }
  }
  if (current !== undefined) sequences.push(current);
  return fitToContext(sequences, options.contextLength, prefixBreaks);
}

/** Applies the overflow rule to every sequence. */
function fitToContext(
  sequences: ReadonlyArray<EpisodeSequence>,
  contextLength: number,
  prefixBreaks: number,
): EpisodeSequences {
  let truncated = 0;
  let dropped = 0;
  const kept: EpisodeSequence[] = [];
  for (const sequence of sequences) {
    let fitted = sequence;
    if (sequence.tokens.length > contextLength) {
      truncated++;
      fitted = {
        tokens: sequence.tokens.slice(0, contextLength),
        lossMask: sequence.lossMask.slice(0, contextLength),
        logProbs: sequence.logProbs.slice(0, contextLength),
        truncated: true,
      };
    }
    if (fitted.lossMask.includes(1)) kept.push(fitted);
    else dropped++;
  }
  return { sequences: kept, prefixBreaks, truncated, dropped };
}

function startsWith(ids: ReadonlyArray<number>, prefix: ReadonlyArray<number>): boolean {
  if (prefix.length > ids.length) return false;
  for (let i = 0; i < prefix.length; i++) if (ids[i] !== prefix[i]) return false;
  return true;
}

/**
 * A recorded conversation (e.g. a teacher's) as one supervised sequence: rendered in the chat format and
 * tokenised, loss mask 1 on each assistant message's text, tool calls and end-of-turn token (not on its
 * leading marker, which the prompt supplies when the policy samples), 0 elsewhere. Log-probs are 0 (nothing
 * was sampled). The overflow rule of {@link episodeSequences} applies; `undefined` when the sequence is dropped.
 */
export function conversationSequence(
  tokenizer: Tokenizer,
  messages: ReadonlyArray<ChatMessage>,
  options: { tools?: ReadonlyArray<ToolDefinition>; contextLength: number },
): EpisodeSequence | undefined {
  const tokens =
    options.tools && options.tools.length > 0
      ? encodeChat(tokenizer, renderChat([], { tools: options.tools }))
      : [tokenizer.bosId];
  const lossMask = tokens.map(() => 0);
  for (const message of messages) {
    const ids = encodeChat(tokenizer, renderMessage(message), { addBos: false });
    tokens.push(...ids);
    const produced = message.role === "assistant";
    lossMask.push(...ids.map((_, i) => (produced && i > 0 ? 1 : 0)));
  }
  const sequence = { tokens, lossMask, logProbs: tokens.map(() => 0), truncated: false };
  return fitToContext([sequence], options.contextLength, 0).sequences[0];
}
