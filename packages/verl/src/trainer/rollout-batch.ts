import { InvalidArgumentError } from "@orbiter/types";
import * as tf from "@tensorflow/tfjs";
import { ADVANTAGE_ESTIMATORS } from "../algorithms/advantage-estimators.js";
import { estimateKl } from "../algorithms/kl-estimators.js";
import { maskedMean } from "../algorithms/masked-statistics.js";
import { computeTokenLevelRewards } from "../algorithms/token-level-rewards.js";
import type { VeRLConfig } from "../config/verl-config.js";
import type { Policy } from "../model/policy.js";
import type { GenerationResult } from "../rollout/generate-options.js";

/**
 * Everything the policy update needs about one rollout, as tensors with B = prompts × groupSize rows and
 * R response positions. Built by {@link buildRolloutBatch}; the owner calls {@link RolloutBatch.dispose}.
 */
export interface RolloutBatch {
  /** Number of rows B. */
  size: number;
  /** Host copy of the number of loss tokens of each row (the row sums of `responseMask`). */
  rowTokens: number[];
  /** `[B, L]` int32 prompt (left-padded) + response ids. */
  tokens: tf.Tensor2D;
  /** `[B, L]` 1 on real tokens. */
  attentionMask: tf.Tensor2D;
  /** First response column of `tokens` (the prompt width). */
  responseStart: number;
  /** `[B, R]` 1 on sampled response tokens of responses that have a score (0 where every reward abstained). */
  responseMask: tf.Tensor2D;
  /** `[B, R]` log π_old of the sampled tokens. */
  oldLogProbs: tf.Tensor2D;
  /** `[B, R]` log π_ref of the sampled tokens, when a reference model is used. */
  refLogProbs: tf.Tensor2D | null;
  /** `[B, R]` advantages. */
  advantages: tf.Tensor2D;
  /** `[B, R]` value targets (PPO with a critic). */
  returns: tf.Tensor2D | null;
  /** `[B, R]` values at rollout time (PPO with a critic). */
  oldValues: tf.Tensor2D | null;
  /** Frees every tensor. */
  dispose(): void;
}

/** Inputs of {@link buildRolloutBatch}. */
export interface BuildRolloutBatchInput {
  /** The parsed trainer config. */
  config: VeRLConfig;
  /** The policy being trained. */
  policy: Policy;
  /** The frozen reference model, or null when no KL is used. */
  reference: Policy | null;
  /** The sampled responses. */
  generation: GenerationResult;
  /**
   * One score per row, or null where every reward abstained. With `normalize-then-sum` pass the combined
   * (already normalised) values here.
   */
  scores: ReadonlyArray<number | null>;
  /** True when `scores` are already advantages (normalize-then-sum with the GRPO estimator). */
  scoresAreAdvantages: boolean;
  /**
   * Outcome advantages the caller computes on the host, for groups the estimator cannot see (agent mode's
   * episodes: variable groups, several rows per episode). Called with each row's KL penalty β·Σ_t KL_t over its
   * loss tokens — all 0 unless `klPlacement` is `reward` with a reference and β > 0 — so the caller can normalise
   * score − penalty; the result (one value per row) is used as the per-response advantages in place of the
   * estimator's. @default the configured estimator on `scores`
   */
  outcomeAdvantages?: (rowKlPenalties: ReadonlyArray<number>) => ReadonlyArray<number>;
  /** Current KL coefficient β (from the KL controller). */
  klCoef: number;
  /** Rows to leave out of the loss once the advantages are computed (e.g. truncated responses). @default none */
  excludedRows?: ReadonlyArray<boolean>;
  /**
   * `[B][R]` reference log-probabilities of the sampled tokens computed elsewhere (by parallel workers); when
   * given, `reference` is not run. @default computed with `reference`
   */
  referenceLogProbs?: ReadonlyArray<ReadonlyArray<number>>;
}

/** Host numbers measured while building the batch. */
export interface RolloutBatchStats {
  /** Batch mean over responses of the per-response mean KL to the reference (0 without a reference). */
  meanKl: number;
  /** Extra metrics (`critic/values/mean`, `critic/returns/mean`, `actor/reward_kl_penalty`, `critic/advantages/*`). */
  metrics: Record<string, number>;
}

/**
 * Turns a rollout and its scores into the tensors of a policy update: takes the old log-probabilities from the
 * rollout (as the PyTorch reference does), and the old values from it too when it has them (a rollout with
 * `withValues`), else recomputes both with one policy forward when a critic is needed; scores the sampled tokens with the reference model, puts
 * the KL penalty into the rewards when `klPlacement` is `reward`, and computes the advantages with the configured
 * estimator. Runs without gradient.
 */
export function buildRolloutBatch(input: BuildRolloutBatchInput): {
  batch: RolloutBatch;
  stats: RolloutBatchStats;
} {
  const { config, policy, reference, generation, scores, klCoef } = input;
  const size = generation.batchSize;
  const responseStart = generation.promptLength;
  const useCritic = config.advantageEstimator === "gae";
  const owned: tf.Tensor[] = [];
  const keep = <T extends tf.Tensor | null>(tensor: T): T => {
    if (tensor !== null) owned.push(tf.keep(tensor));
    return tensor;
  };
  const statsTensors: Record<string, tf.Scalar> = {};
  let built: RolloutBatch | undefined;
  try {
    tf.tidy(() => {
      const tokens = keep(tf.tensor2d(generation.sequences, undefined, "int32"));
      const attentionMask = keep(tf.tensor2d(generation.attentionMask, undefined, "float32"));
      // A response on which every reward abstained (null score) is left out of the update entirely.
      const valid = tf.tensor1d(scores.map((score) => (score === null ? 0 : 1)));
      const responseMask = keep(
        tf.mul(
          tf.tensor2d(generation.responseMask, undefined, "float32"),
          tf.expandDims(valid, 1),
        ) as tf.Tensor2D,
      );
      const forward = { tokens, attentionMask, responseStart, temperature: config.temperature };
      let oldLogProbs: tf.Tensor2D;
      let oldValues: tf.Tensor2D | null = null;
      if (useCritic && generation.values === undefined) {
        const out = policy.logProbs({ ...forward, withValues: true });
        oldLogProbs = out.logProbs;
        oldValues = tf.mul(out.values as tf.Tensor2D, responseMask) as tf.Tensor2D;
      } else {
        oldLogProbs = tf.tensor2d(generation.logProbs, [size, generation.responseLength], "float32");
        if (useCritic) {
          const rolled = tf.tensor2d(generation.values as number[][], [size, generation.responseLength]);
          oldValues = tf.mul(rolled, responseMask) as tf.Tensor2D;
        }
      }
      keep(oldLogProbs);
      keep(oldValues);
      const given = input.referenceLogProbs;
      const refLogProbs =
        given !== undefined
          ? keep(tf.tensor2d(given as number[][], [size, generation.responseLength], "float32"))
          : reference
            ? keep(reference.logProbs(forward).logProbs)
            : null;
      let kl: tf.Tensor | null = null;
      if (refLogProbs) {
        kl = tf.mul(estimateKl(oldLogProbs, refLogProbs, config.klEstimator, { clamp: true }), responseMask);
        statsTensors.meanKl = tf.mean(maskedMean(kl, responseMask, 1)) as tf.Scalar;
      }
      const klInReward = kl !== null && config.klPlacement === "reward" && klCoef > 0;
      const scoreTensor = tf.tensor1d(scores.map((score) => score ?? 0));
      const tokenRewards = computeTokenLevelRewards({
        scores: scoreTensor,
        mask: responseMask,
        ...(klInReward && kl ? { kl, klCoef } : {}),
      });
      // Outcome estimators see the sequence total of the token rewards (score minus the KL penalty, as verl).
      const outcome = klInReward ? tf.sum(tokenRewards, 1) : scoreTensor;
      const precomputed = hostAdvantages(input, size, klInReward ? kl : null, klCoef, valid, scoreTensor);
      const { advantages, returns } = ADVANTAGE_ESTIMATORS[config.advantageEstimator]({
        outcome: outcome as tf.Tensor1D,
        tokenRewards: tokenRewards as tf.Tensor2D,
        mask: responseMask,
        valid,
        values: oldValues,
        groupSize: config.groupSize,
        gamma: config.gamma,
        lambda: config.lambda,
        epsilon: config.advantageEpsilon,
        // An unresolved "auto" (a caller below the trainer) takes the fresh-Adam choice: divide by the spread.
        normalizeStd: config.normalizeAdvantageStd !== false,
        whiten: config.whitenAdvantages !== false,
        precomputed,
      });
      keep(advantages);
      keep(returns);
      statsTensors.advantageMean = maskedMean(advantages, responseMask) as tf.Scalar;
      statsTensors.advantageMax = tf.max(advantages) as tf.Scalar;
      statsTensors.advantageMin = tf.min(advantages) as tf.Scalar;
      if (kl) statsTensors.klPenalty = tf.mul(maskedMean(kl, responseMask), klCoef) as tf.Scalar;
      if (oldValues && returns) {
        statsTensors.valueMean = maskedMean(oldValues, responseMask) as tf.Scalar;
        statsTensors.returnMean = maskedMean(returns, responseMask) as tf.Scalar;
      }
      for (const tensor of Object.values(statsTensors)) tf.keep(tensor);
      const excluded = input.excludedRows;
      const lossMask =
        excluded === undefined || !excluded.includes(true)
          ? responseMask
          : keep(
              tf.mul(
                responseMask,
                tf.tensor2d(
                  excluded.map((out) => [out ? 0 : 1]),
                  [size, 1],
                ),
              ) as tf.Tensor2D,
            );
      const rowValid = scores.map((score, row) => score !== null && excluded?.[row] !== true);
      built = {
        size,
        rowTokens: generation.responseMask.map((row, index) =>
          rowValid[index] ? row.reduce((sum, value) => sum + value, 0) : 0,
        ),
        tokens,
        attentionMask,
        responseStart,
        responseMask: lossMask,
        oldLogProbs,
        refLogProbs,
        advantages,
        returns,
        oldValues,
        dispose: () => tf.dispose(owned),
      };
    });
  } catch (error) {
    // tf.tidy frees only what was not kept: the batch tensors and the stats kept so far are ours to free.
    tf.dispose(owned);
    tf.dispose(Object.values(statsTensors));
    throw error;
  }
  const batch = built as unknown as RolloutBatch;
  const names = Object.keys(statsTensors);
  let values: Float32Array = new Float32Array();
  if (names.length > 0) {
    const stacked = tf.stack(names.map((name) => statsTensors[name] as tf.Scalar));
    values = stacked.dataSync() as Float32Array;
    stacked.dispose();
  }
  tf.dispose(Object.values(statsTensors));
  const read = (name: string): number | undefined => {
    const index = names.indexOf(name);
    return index < 0 ? undefined : (values[index] as number);
  };
  const metrics: Record<string, number> = {
    "critic/advantages/mean": read("advantageMean") ?? 0,
    "critic/advantages/max": read("advantageMax") ?? 0,
    "critic/advantages/min": read("advantageMin") ?? 0,
  };
  const penalty = read("klPenalty");
  if (penalty !== undefined) metrics["actor/reward_kl_penalty"] = penalty;
  const valueMean = read("valueMean");
  if (valueMean !== undefined) metrics["critic/values/mean"] = valueMean;
  const returnMean = read("returnMean");
  if (returnMean !== undefined) metrics["critic/returns/mean"] = returnMean;
  return { batch, stats: { meanKl: read("meanKl") ?? 0, metrics } };
}

/**
 * The per-response advantages computed outside the estimator, or null: the caller's `outcomeAdvantages` on each
 * row's KL penalty (β times the row sum of the masked KL when it goes into the reward, else 0), or the scores
 * themselves when they already are advantages.
 * @throws InvalidArgumentError when the scores are already advantages but the KL should go into the reward
 *   (the penalty would have to enter before the normalisation that made them)
 */
function hostAdvantages(
  input: BuildRolloutBatchInput,
  size: number,
  rewardKl: tf.Tensor | null,
  klCoef: number,
  valid: tf.Tensor1D,
  scoreTensor: tf.Tensor1D,
): tf.Tensor1D | null {
  if (input.outcomeAdvantages !== undefined) {
    let penalties: number[] = new Array<number>(size).fill(0);
    if (rewardKl !== null) {
      const sums = tf.sum(rewardKl, 1);
      penalties = Array.from(sums.dataSync(), (sum) => klCoef * sum);
      sums.dispose();
    }
    const advantages = input.outcomeAdvantages(penalties);
    if (advantages.length !== size) {
      throw new InvalidArgumentError(
        `outcomeAdvantages returned ${advantages.length} values for ${size} rows`,
        {
          field: "outcomeAdvantages",
          value: advantages.length,
        },
      );
    }
    return tf.mul(tf.tensor1d(advantages as number[]), valid) as tf.Tensor1D;
  }
  if (!input.scoresAreAdvantages) return null;
  if (rewardKl !== null) {
    throw new InvalidArgumentError(
      'klPlacement "reward" cannot enter scores that are already advantages (rewardCombination "normalize-then-sum" with GRPO); use klPlacement "loss"',
      { field: "config.klPlacement", value: input.config.klPlacement },
    );
  }
  return tf.mul(scoreTensor, valid) as tf.Tensor1D;
}
