import { InvalidArgumentError } from "@orbiter/types";
import type { VeRLConfig } from "../config/verl-config.js";
import type { Policy } from "../model/policy.js";
import type { GenerationResult } from "../rollout/generate-options.js";
import { buildRolloutBatch, type RolloutBatch, type RolloutBatchStats } from "../trainer/rollout-batch.js";
import type { EpisodeSequence } from "./episode-sequence.js";

/** One row of an episode batch: a sequence, the score of its episode, and which episode and group it is. */
export interface EpisodeRow {
  sequence: EpisodeSequence;
  /** The episode's total reward. */
  score: number;
  /** Index of the episode (several rows may share one when its history broke). */
  episode: number;
  /** Index of its group: the episodes of one task. */
  group: number;
}

/** Inputs of {@link buildEpisodeBatch}. */
export interface EpisodeBatchInput {
  config: VeRLConfig;
  policy: Policy;
  reference: Policy | null;
  rows: ReadonlyArray<EpisodeRow>;
  klCoef: number;
  /**
   * `[B][R]` reference log-probabilities of the rows' tokens computed elsewhere (by parallel workers, on
   * {@link episodeGeneration} of the same rows); when given, `reference` is not run. @default computed with `reference`
   */
  referenceLogProbs?: ReadonlyArray<ReadonlyArray<number>>;
}

/** Advantage estimators that work on episodes (groups of any size, several rows per episode). */
export const EPISODE_ESTIMATORS = ["grpo", "gae", "reinforce++"] as const;

/**
 * GRPO advantages of episodes on the host: within each group, A = (s − mean) / (std + ε) over its episodes
 * (sample standard deviation; `normalizeAdvantageStd: false` leaves out the division); a group with one
 * episode gets 0. Every row takes its episode's advantage. With `penalties` (one per row, the KL penalty
 * β·Σ_t KL_t over the row's loss tokens), an episode's outcome s is its score minus the penalties of all its rows.
 */
export function episodeGroupAdvantages(
  rows: ReadonlyArray<EpisodeRow>,
  options: { epsilon: number; scaleByStd: boolean; penalties?: ReadonlyArray<number> },
): number[] {
  const penalties = options.penalties;
  if (penalties !== undefined && penalties.length !== rows.length) {
    throw new InvalidArgumentError(`${penalties.length} KL penalties for ${rows.length} rows`, {
      field: "options.penalties",
      value: penalties.length,
    });
  }
  const byGroup = new Map<number, Map<number, number>>();
  rows.forEach((row, index) => {
    const episodes = byGroup.get(row.group) ?? new Map<number, number>();
    const penalty = penalties?.[index] ?? 0;
    const earlier = episodes.get(row.episode);
    episodes.set(row.episode, (earlier ?? row.score) - penalty);
    byGroup.set(row.group, episodes);
  });
  const stats = new Map<number, { mean: number; std: number; count: number }>();
  for (const [group, episodes] of byGroup) {
    const scores = [...episodes.values()];
    const mean = scores.reduce((sum, value) => sum + value, 0) / scores.length;
    const variance =
      scores.length > 1
        ? scores.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (scores.length - 1)
        : 0;
    stats.set(group, { mean, std: Math.sqrt(variance), count: scores.length });
  }
  return rows.map((row) => {
    const group = stats.get(row.group) as { mean: number; std: number; count: number };
    if (group.count < 2) return 0;
    const centred = (byGroup.get(row.group)?.get(row.episode) as number) - group.mean;
    return options.scaleByStd ? centred / (group.std + options.epsilon) : centred;
  });
}

/**
 * The tensors of a policy update from episode sequences: every row is right-padded to the longest, scored from
 * its second token on (the first is BOS), with the loss mask as the response mask and the sampled log-probs as
 * π_old, so the ids and log-probs the update uses are exactly those the sampler drew. GRPO advantages are
 * per-episode (see {@link episodeGroupAdvantages}), on the episode score minus β·Σ_t KL_t over its produced
 * tokens when `klPlacement` is `reward`; GAE puts the episode score on each row's last produced token
 * and carries values and advantages through the masked (tool, user) tokens; REINFORCE++ discounts over produced
 * tokens. The caller disposes the batch.
 *
 * @throws InvalidArgumentError when the estimator needs fixed groups (RLOO, REINFORCE++ with baseline)
 */
export function buildEpisodeBatch(input: EpisodeBatchInput): {
  batch: RolloutBatch;
  stats: RolloutBatchStats;
} {
  const { config, rows } = input;
  if (!(EPISODE_ESTIMATORS as ReadonlyArray<string>).includes(config.advantageEstimator)) {
    throw new InvalidArgumentError(
      `advantageEstimator "${config.advantageEstimator}" needs fixed groups; agent episodes train with ${EPISODE_ESTIMATORS.join(", ")}`,
      { field: "config.advantageEstimator", value: config.advantageEstimator },
    );
  }
  if (rows.length === 0) throw new InvalidArgumentError("No episode rows to train on", { field: "rows" });
  const generation = episodeGeneration(rows, input.policy.tokenizer.padId);
  const grpo = config.advantageEstimator === "grpo";
  // GRPO's groups are the episodes of a task (failed ones left out), so the batch hands each row's KL penalty
  // (0 unless the KL goes into the reward) back here to normalise score − penalty per episode.
  const outcomeAdvantages = (penalties: ReadonlyArray<number>): number[] =>
    episodeGroupAdvantages(rows, {
      epsilon: config.advantageEpsilon,
      scaleByStd: config.normalizeAdvantageStd !== false,
      penalties,
    });
  return buildRolloutBatch({
    config,
    policy: input.policy,
    reference: input.reference,
    generation,
    scores: rows.map((row) => row.score),
    scoresAreAdvantages: false,
    ...(grpo ? { outcomeAdvantages } : {}),
    klCoef: input.klCoef,
    ...(input.referenceLogProbs === undefined ? {} : { referenceLogProbs: input.referenceLogProbs }),
  });
}

/**
 * Episode rows as a rollout: every row right-padded to the longest, a one-token "prompt" (BOS) and the rest
 * scored, the loss mask as the response mask and the sampled log-probs as π_old (0 on tokens the policy did not
 * produce). `promptIndex` is the row's group.
 * @throws InvalidArgumentError when there are no rows
 */
export function episodeGeneration(rows: ReadonlyArray<EpisodeRow>, padId: number): GenerationResult {
  if (rows.length === 0) throw new InvalidArgumentError("No episode rows to train on", { field: "rows" });
  const length = Math.max(...rows.map((row) => row.sequence.tokens.length));
  const responseLength = length - 1;
  return {
    batchSize: rows.length,
    promptLength: 1,
    responseLength,
    promptIndex: rows.map((row) => row.group),
    sequences: rows.map((row) => pad(row.sequence.tokens, length, padId)),
    attentionMask: rows.map((row) =>
      pad(
        row.sequence.tokens.map(() => 1),
        length,
        0,
      ),
    ),
    responses: rows.map((row) => row.sequence.tokens.filter((_, i) => row.sequence.lossMask[i] === 1)),
    responseMask: rows.map((row) => pad(row.sequence.lossMask.slice(1), responseLength, 0)),
    logProbs: rows.map((row) => pad(row.sequence.logProbs.slice(1), responseLength, 0)),
    texts: rows.map(() => ""),
    finished: rows.map((row) => !row.sequence.truncated),
  };
}

function pad(values: ReadonlyArray<number>, length: number, fill: number): number[] {
  const out = values.slice(0, length);
  while (out.length < length) out.push(fill);
  return out;
}
