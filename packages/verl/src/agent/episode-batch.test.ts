import type { ChatCompletionRequest, ChatMessage } from "@orbiter/types";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { computePolicyLoss } from "../algorithms/policy-loss.js";
import { computeValueLoss } from "../algorithms/value-loss.js";
import { initBackend } from "../backend/init-backend.js";
import { ChatPolicy } from "../chat/chat-policy.js";
import { chatTokenizer } from "../chat/chat-template.js";
import { VeRLConfig } from "../config/verl-config.js";
import { backendsForTests } from "../internal/testing/test-backends.js";
import { TransformerPolicy } from "../model/transformer-policy.js";
import type { EpisodeCall } from "./agent-episode.js";
import { buildEpisodeBatch, type EpisodeRow, episodeGroupAdvantages } from "./episode-batch.js";
import { conversationSequence, episodeSequences } from "./episode-sequence.js";

const backends = await backendsForTests();

/** A recorded call as the gateway keeps it: prompt ids, sampled ids and log-probs. */
function call(index: number, prompt: number[], sampled: number[], logprobs?: number[]): EpisodeCall {
  return {
    index,
    request: { model: "m", messages: [{ role: "user", content: "x" }] } as ChatCompletionRequest,
    status: "ok",
    result: {
      model: "m",
      promptTokenIds: prompt,
      choices: [
        {
          index: 0,
          finishReason: "stop",
          message: { role: "assistant", content: "" },
          tokenIds: sampled,
          tokenLogprobs: logprobs ?? sampled.map((id) => -id / 10),
        },
      ],
    },
  };
}

describe("episodeSequences", () => {
  it("joins the turns of an episode into one sequence, mask 1 only on sampled ids, log-probs kept", () => {
    // BOS=1, prompt 10 11, sampled 20 21 (EOS 2), tool result 12 13, sampled 22 2.
    const calls = [call(0, [1, 10, 11], [20, 2]), call(1, [1, 10, 11, 20, 2, 12, 13], [22, 2])];
    const { sequences, prefixBreaks, truncated, dropped } = episodeSequences(calls, { contextLength: 32 });
    expect({ prefixBreaks, truncated, dropped }).toEqual({ prefixBreaks: 0, truncated: 0, dropped: 0 });
    expect(sequences).toHaveLength(1);
    expect(sequences[0]).toEqual({
      tokens: [1, 10, 11, 20, 2, 12, 13, 22, 2],
      lossMask: [0, 0, 0, 1, 1, 0, 0, 1, 1],
      logProbs: [0, 0, 0, -2, -0.2, 0, 0, -2.2, -0.2],
      truncated: false,
    });
  });

  it("starts a new sequence when a prompt does not continue the episode, skipping failed calls", () => {
    const failed: EpisodeCall = { index: 1, request: call(0, [], []).request, status: "error" };
    const calls = [call(0, [1, 10], [20, 2]), failed, call(2, [1, 10, 21, 2, 12], [22, 2])];
    const { sequences, prefixBreaks } = episodeSequences(calls, { contextLength: 32 });
    expect(prefixBreaks).toBe(1);
    expect(sequences.map((sequence) => sequence.tokens)).toEqual([
      [1, 10, 20, 2],
      [1, 10, 21, 2, 12, 22, 2],
    ]);
    expect(sequences[1]?.lossMask).toEqual([0, 0, 0, 0, 0, 1, 1]);
  });

  it("cuts an episode longer than the context, and drops one with no sampled token inside it (counted)", () => {
    const calls = [call(0, [1, 10, 11], [20, 21, 2]), call(1, [1, 10, 11, 20, 21, 2, 12], [22, 2])];
    const cut = episodeSequences(calls, { contextLength: 5 });
    expect(cut).toMatchObject({ truncated: 1, dropped: 0 });
    expect(cut.sequences[0]).toMatchObject({
      tokens: [1, 10, 11, 20, 21],
      lossMask: [0, 0, 0, 1, 1],
      truncated: true,
    });
    const gone = episodeSequences(calls, { contextLength: 3 });
    expect(gone).toMatchObject({ sequences: [], truncated: 1, dropped: 1 });
  });

  it("masks a recorded conversation on its assistant turns only (the assistant marker stays a prompt token)", () => {
    const tokenizer = chatTokenizer();
    const messages: ChatMessage[] = [
      { role: "user", content: "hi" },
      { role: "assistant", content: "ok" },
      { role: "tool", content: "t" },
    ];
    const sequence = conversationSequence(tokenizer, messages, { contextLength: 64 });
    const id = (text: string) => tokenizer.encode(text)[0];
    const { user, assistant, tool } = { user: "\uE001", assistant: "\uE002", tool: "\uE003" };
    const eos = tokenizer.eosId;
    expect(sequence?.tokens).toEqual([
      1,
      id(user),
      id("h"),
      id("i"),
      eos,
      id(assistant),
      id("o"),
      id("k"),
      eos,
      id(tool),
      id("t"),
      eos,
    ]);
    expect(sequence?.lossMask).toEqual([0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0]);
  });
});

describe("episodeGroupAdvantages", () => {
  it("normalises per task over episodes, not rows; a lone episode gets 0", () => {
    const sequence = { tokens: [1], lossMask: [0], logProbs: [0], truncated: false };
    const rows: EpisodeRow[] = [
      { sequence, score: 1, episode: 0, group: 0 },
      { sequence, score: 1, episode: 0, group: 0 }, // a second row of the same episode
      { sequence, score: 0, episode: 1, group: 0 },
      { sequence, score: 5, episode: 2, group: 1 },
    ];
    const advantages = episodeGroupAdvantages(rows, { epsilon: 0, scaleByStd: true });
    const std = Math.sqrt(0.5);
    expect(advantages[0]).toBeCloseTo(0.5 / std, 6);
    expect(advantages[1]).toBeCloseTo(0.5 / std, 6);
    expect(advantages[2]).toBeCloseTo(-0.5 / std, 6);
    expect(advantages[3]).toBe(0);
  });
});

describe.each(backends)("buildEpisodeBatch on %s", (backend) => {
  let policy: TransformerPolicy;
  beforeAll(async () => {
    await initBackend({ backend });
    policy = new TransformerPolicy({
      tokenizer: chatTokenizer(),
      config: { contextLength: 96, dModel: 16, nHeads: 2, nLayers: 1, dMlp: 32, valueHead: true },
      seed: 2,
    });
  });
  afterAll(() => policy.dispose());

  /** Runs a two-turn episode with the chat policy and records it as the gateway does. */
  async function sampledEpisode(seed: number): Promise<EpisodeCall[]> {
    const chat = new ChatPolicy(policy, { maxNewTokens: 8, override: { temperature: 1 } });
    const messages: ChatMessage[] = [{ role: "user", content: "weather in Oslo?" }];
    const calls: EpisodeCall[] = [];
    for (let turn = 0; turn < 2; turn++) {
      const request = { model: "m", messages: [...messages] } as ChatCompletionRequest;
      const result = await chat.complete({ ...request, seed: seed + turn });
      calls.push({ index: turn, request, result, status: "ok" });
      messages.push(result.choices[0]!.message, { role: "tool", content: '{"sky":"rain"}' });
    }
    return calls;
  }

  it("updates on exactly the ids and log-probs the policy sampled during the episode", async () => {
    const episodes = [await sampledEpisode(1), await sampledEpisode(7)];
    const rows: EpisodeRow[] = episodes.flatMap((calls, episode) =>
      episodeSequences(calls, { contextLength: policy.contextLength }).sequences.map((sequence) => ({
        sequence,
        score: episode,
        episode,
        group: 0,
      })),
    );
    const config = VeRLConfig.parse({ algorithm: "grpo", klCoef: 0 });
    const before = tf.memory().numTensors;
    const { batch } = buildEpisodeBatch({ config, policy, reference: null, rows, klCoef: 0 });
    const tokens = batch.tokens.arraySync();
    const mask = batch.responseMask.arraySync();
    const oldLogProbs = batch.oldLogProbs.arraySync();
    batch.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(batch.responseStart).toBe(1);
    // Per episode, the produced tokens of its rows, in order, are the sampled ids of its calls.
    const produced = episodes.map(() => ({ ids: [] as number[], logprobs: [] as number[] }));
    rows.forEach((row, r) => {
      mask[r]!.forEach((on, j) => {
        if (on !== 1) return;
        produced[row.episode]!.ids.push(tokens[r]![j + 1]!);
        produced[row.episode]!.logprobs.push(oldLogProbs[r]![j]!);
      });
    });
    episodes.forEach((calls, episode) => {
      const sampled = calls.flatMap((c) => c.result!.choices[0]!.tokenIds!);
      const logprobs = calls.flatMap((c) => c.result!.choices[0]!.tokenLogprobs!);
      expect(produced[episode]!.ids).toEqual(sampled);
      expect(produced[episode]!.logprobs).toEqual(logprobs.map((value) => Math.fround(value)));
    });
  });

  it("gives a masked token no gradient, and GAE carries the final reward back through a tool result", () => {
    // Hand-made episode: prompt 3 tokens, a 2-token turn, a 3-token tool result, a 2-token turn.
    const sequence = {
      tokens: [1, 10, 11, 20, 2, 12, 13, 14, 22, 2],
      lossMask: [0, 0, 0, 1, 1, 0, 0, 0, 1, 1],
      logProbs: [0, 0, 0, -1, -0.5, 0, 0, 0, -2, -0.1],
      truncated: false,
    };
    const config = VeRLConfig.parse({ algorithm: "ppo", lambda: 1, gamma: 1, klCoef: 0 });
    const rows: EpisodeRow[] = [
      { sequence, score: 1, episode: 0, group: 0 },
      {
        sequence: { ...sequence, tokens: [...sequence.tokens.slice(0, -2), 23, 2] },
        score: 0,
        episode: 1,
        group: 0,
      },
    ];
    const before = tf.memory().numTensors;
    const { batch } = buildEpisodeBatch({ config, policy, reference: null, rows, klCoef: 0 });
    const mask = batch.responseMask.arraySync();
    const [policyGrad, valueGrad, advantages] = tf.tidy(() => {
      const out = policy.logProbs({
        tokens: batch.tokens,
        attentionMask: batch.attentionMask,
        responseStart: 1,
        withValues: true,
      });
      const pg = tf.grad(
        (logProbs: tf.Tensor) =>
          computePolicyLoss({
            logProbs,
            oldLogProbs: batch.oldLogProbs,
            advantages: batch.advantages,
            mask: batch.responseMask,
          }).loss,
      )(out.logProbs);
      const vg = tf.grad(
        (values: tf.Tensor) =>
          computeValueLoss({
            values,
            oldValues: batch.oldValues as tf.Tensor,
            returns: batch.returns as tf.Tensor,
            mask: batch.responseMask,
          }).loss,
      )(out.values as tf.Tensor);
      return [pg.arraySync() as number[][], vg.arraySync() as number[][], batch.advantages.arraySync()];
    });
    batch.dispose();
    expect(tf.memory().numTensors).toBe(before);
    let maskedChecked = 0;
    mask.forEach((row, r) => {
      row.forEach((on, j) => {
        if (on === 0) {
          expect(Math.abs(policyGrad[r]![j]!)).toBe(0);
          expect(Math.abs(valueGrad[r]![j]!)).toBe(0);
          expect(Math.abs(advantages[r]![j]!)).toBe(0);
          maskedChecked++;
        } else {
          expect(Math.abs(policyGrad[r]![j]!)).toBeGreaterThan(0);
        }
      });
    });
    expect(maskedChecked).toBe(2 * 5);
    // The first turn (columns 2, 3) of the rewarded episode is credited above the unrewarded one's, although
    // tool tokens lie between it and the reward.
    expect(advantages[0]![2]!).toBeGreaterThan(advantages[1]![2]!);
  });

  /**
   * Hand-made group of three episodes (the second split into two rows by a history break) with reference
   * log-probs given, so the k1 KL of every token is known: per row Σ KL over the loss tokens = 1, 1.5, 0.5, 1
   * (the −9 on prompt and padding columns must not count).
   */
  function klEpisodes(): { rows: EpisodeRow[]; referenceLogProbs: number[][] } {
    const sequence = (tokens: number[], lossMask: number[], logProbs: number[]) => ({
      tokens,
      lossMask,
      logProbs,
      truncated: false,
    });
    const rows: EpisodeRow[] = [
      { sequence: sequence([1, 10, 20, 2], [0, 0, 1, 1], [0, 0, -1, -0.5]), score: 1, episode: 0, group: 0 },
      { sequence: sequence([1, 10, 21, 2], [0, 0, 1, 1], [0, 0, -2, -0.25]), score: 1, episode: 1, group: 0 },
      { sequence: sequence([1, 11, 22], [0, 0, 1], [0, 0, -0.5]), score: 1, episode: 1, group: 0 },
      { sequence: sequence([1, 10, 23, 2], [0, 0, 1, 1], [0, 0, -1.5, -1]), score: 0, episode: 2, group: 0 },
    ];
    // log π_old rows (from column 1): [0, -1, -0.5], [0, -2, -0.25], [0, -0.5, 0], [0, -1.5, -1].
    const referenceLogProbs = [
      [-9, -1.5, -1],
      [-9, -2.5, -1.25],
      [-9, -1, -9],
      [-9, -1.5, -2],
    ];
    return { rows, referenceLogProbs };
  }

  /** Per-row advantage of a GRPO episode batch (column 1 is a loss token in every row). */
  function episodeAdvantages(config: VeRLConfig, klCoef: number): { advantages: number[]; penalty: number } {
    const { rows, referenceLogProbs } = klEpisodes();
    const before = tf.memory().numTensors;
    const { batch, stats } = buildEpisodeBatch({
      config,
      policy,
      reference: null,
      rows,
      klCoef,
      referenceLogProbs,
    });
    const advantages = (batch.advantages.arraySync() as number[][]).map((row) => row[1] as number);
    batch.dispose();
    expect(tf.memory().numTensors).toBe(before);
    return { advantages, penalty: stats.metrics["actor/reward_kl_penalty"] ?? Number.NaN };
  }

  it('with klPlacement "reward", normalises score − β·Σ KL per episode (all its rows) within the group', () => {
    const config = VeRLConfig.parse({
      algorithm: "grpo",
      klPlacement: "reward",
      klEstimator: "k1",
      klCoef: 0.5,
    });
    const { advantages, penalty } = episodeAdvantages(config, 0.5);
    // Episode outcomes: 1 − 0.5·1 = 0.5; 1 − 0.5·(1.5 + 0.5) = 0; 0 − 0.5·1 = −0.5. Mean 0, sample std 0.5.
    const scale = 0.5 / (0.5 + 1e-6);
    expect(advantages[0]).toBeCloseTo(scale, 6);
    expect(advantages[1]).toBeCloseTo(0, 6);
    expect(advantages[2]).toBeCloseTo(0, 6);
    expect(advantages[3]).toBeCloseTo(-scale, 6);
    // β times the mean KL per loss token: (0.5 + 0.5 + 0.5 + 1 + 0.5 + 0 + 1) / 7 × 0.5.
    expect(penalty).toBeCloseTo((4 / 7) * 0.5, 6);
    // Without the division by the spread, the centred outcomes themselves.
    const centred = episodeAdvantages(VeRLConfig.parse({ ...config, normalizeAdvantageStd: false }), 0.5);
    expect(centred.advantages.map((value) => Number(value.toFixed(6)))).toEqual([0.5, 0, 0, -0.5]);
  });

  it('leaves the advantages of klCoef 0 and klPlacement "loss" exactly those of the scores', () => {
    const { rows } = klEpisodes();
    // Scores 1, 1, 0: mean 2/3, sample std √(1/3).
    const plain = episodeGroupAdvantages(rows, { epsilon: 1e-6, scaleByStd: true });
    expect(plain[0]).toBeCloseTo(1 / 3 / (Math.sqrt(1 / 3) + 1e-6), 9);
    expect(plain[3]).toBeCloseTo(-2 / 3 / (Math.sqrt(1 / 3) + 1e-6), 9);
    const expected = plain.map((value) => Math.fround(value));
    const inReward = { algorithm: "grpo", klPlacement: "reward", klEstimator: "k1" } as const;
    expect(episodeAdvantages(VeRLConfig.parse({ ...inReward, klCoef: 0 }), 0).advantages).toEqual(expected);
    const inLoss = VeRLConfig.parse({
      algorithm: "grpo",
      klPlacement: "loss",
      klEstimator: "k1",
      klCoef: 0.5,
    });
    expect(episodeAdvantages(inLoss, 0.5).advantages).toEqual(expected);
  });

  it("refuses KL penalties that do not match the rows, naming the option", () => {
    const { rows } = klEpisodes();
    expect(() => episodeGroupAdvantages(rows, { epsilon: 1e-6, scaleByStd: true, penalties: [0] })).toThrow(
      expect.objectContaining({ name: "InvalidArgumentError", field: "options.penalties" }),
    );
  });
});
