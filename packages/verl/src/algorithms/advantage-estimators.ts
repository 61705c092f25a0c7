import type * as tf from "@tensorflow/tfjs";
import type { AdvantageEstimator } from "../config/verl-algorithm.js";
import { computeGaeAdvantage } from "./gae-advantage.js";
import { broadcastToTokens, computeGroupAdvantage, computeRlooAdvantage } from "./group-advantage.js";
import {
  computeReinforcePlusPlusAdvantage,
  computeReinforcePlusPlusBaselineAdvantage,
} from "./reinforce-plus-plus-advantage.js";

/** What every advantage estimator may read (each one uses the fields its method needs). */
export interface AdvantageEstimatorInput {
  /** `[B]` outcome score of each response (the sequence total of the token rewards when the KL is in them). */
  outcome: tf.Tensor1D;
  /** `[B, R]` token-level rewards (the score on the last token, minus the KL penalty when it is in the reward). */
  tokenRewards: tf.Tensor2D;
  /** `[B, R]` 1 on the response tokens of responses that count. */
  mask: tf.Tensor2D;
  /** `[B]` 1 for responses that count, 0 for those left out. */
  valid: tf.Tensor1D;
  /** `[B, R]` critic values at rollout time (GAE only). */
  values: tf.Tensor2D | null;
  /** Responses per prompt, consecutive in the batch. */
  groupSize: number;
  /** Discount γ. */
  gamma: number;
  /** GAE λ. */
  lambda: number;
  /** ε added to the group std. */
  epsilon: number;
  /** Divide group advantages by the group std. */
  normalizeStd: boolean;
  /** Whiten GAE advantages over the batch (zero mean, unit variance); false keeps their scale. */
  whiten: boolean;
  /** `[B]` per-response advantages computed elsewhere (normalize-then-sum), used instead of the group ones. */
  precomputed: tf.Tensor1D | null;
}

/** Advantages `[B, R]`, and the value targets `[B, R]` of estimators with a critic. */
export interface AdvantageEstimate {
  advantages: tf.Tensor2D;
  returns: tf.Tensor2D | null;
}

/**
 * Every advantage estimator by name (verl's `algorithm.adv_estimator`): GAE with a critic, group-normalised
 * outcome (GRPO), leave-one-out (RLOO), REINFORCE++ and REINFORCE++ with a group baseline. Runs inside the
 * caller's `tf.tidy`.
 */
export const ADVANTAGE_ESTIMATORS: Record<
  AdvantageEstimator,
  (input: AdvantageEstimatorInput) => AdvantageEstimate
> = {
  gae: (input) => {
    const gae = computeGaeAdvantage({
      tokenRewards: input.tokenRewards,
      values: input.values as tf.Tensor2D,
      mask: input.mask,
      gamma: input.gamma,
      lambda: input.lambda,
      whiten: input.whiten,
    });
    return { advantages: gae.advantages as tf.Tensor2D, returns: gae.returns as tf.Tensor2D };
  },
  grpo: (input) => {
    const perResponse =
      input.precomputed ??
      computeGroupAdvantage({
        scores: input.outcome,
        groupSize: input.groupSize,
        epsilon: input.epsilon,
        scaling: input.normalizeStd ? "group" : "none",
        valid: input.valid,
      });
    return { advantages: broadcastToTokens(perResponse, input.mask), returns: null };
  },
  rloo: (input) => ({
    advantages: broadcastToTokens(
      computeRlooAdvantage({ scores: input.outcome, groupSize: input.groupSize, valid: input.valid }),
      input.mask,
    ),
    returns: null,
  }),
  "reinforce++": (input) => ({
    advantages: computeReinforcePlusPlusAdvantage({
      tokenRewards: input.tokenRewards,
      mask: input.mask,
      gamma: input.gamma,
    }).advantages as tf.Tensor2D,
    returns: null,
  }),
  "reinforce++-baseline": (input) => ({
    advantages: computeReinforcePlusPlusBaselineAdvantage({
      scores: input.outcome,
      mask: input.mask,
      groupSize: input.groupSize,
    }),
    returns: null,
  }),
};
