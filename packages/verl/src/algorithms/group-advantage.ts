import { InvalidArgumentError } from "@orbiter/types";
import * as tf from "@tensorflow/tfjs";

/**
 * How GRPO scales the group-centred scores (TRL `scale_rewards`).
 * - `group`: divide by the group's sample standard deviation (GRPO).
 * - `batch`: divide by the standard deviation of all scores in the batch (Lite-PPO).
 * - `none`: no division (Dr. GRPO, verl `norm_adv_by_std_in_grpo=False`).
 */
export const AdvantageScaling = { GROUP: "group", BATCH: "batch", NONE: "none" } as const;

/** One of the {@link AdvantageScaling} values. */
export type AdvantageScaling = (typeof AdvantageScaling)[keyof typeof AdvantageScaling];

/** Inputs of {@link computeGroupAdvantage}. */
export interface GroupAdvantageInput {
  /** `[B]` sequence scores; B = prompts × groupSize, each prompt's responses contiguous. */
  scores: tf.Tensor;
  /** Responses per prompt G. */
  groupSize: number;
  /** Added to the standard deviation before dividing. @default 1e-6 (verl) */
  epsilon?: number;
  /** How to scale the centred scores. @default "group" */
  scaling?: AdvantageScaling;
  /**
   * `[B]` 1 where a score exists, 0 where it is missing (every reward abstained): missing scores are left out
   * of the group statistics and get advantage 0.
   */
  valid?: tf.Tensor;
}

function checkGroups(scores: tf.Tensor, groupSize: number): number {
  const batch = scores.shape[0] as number;
  if (scores.rank !== 1) {
    throw new InvalidArgumentError(`scores must have rank 1 [B], got rank ${scores.rank}`, {
      field: "scores",
    });
  }
  if (!Number.isInteger(groupSize) || groupSize < 1 || batch % groupSize !== 0) {
    throw new InvalidArgumentError(
      `groupSize ${groupSize} must be a positive integer dividing the batch ${batch}`,
      {
        field: "groupSize",
        value: groupSize,
      },
    );
  }
  return batch / groupSize;
}

/**
 * GRPO's group-normalised outcome advantage (verl `compute_grpo_outcome_advantage`): for each group of G
 * responses to one prompt, A_i = (s_i − mean) / (std + ε) with the sample (n − 1) standard deviation. A group
 * whose scores are all equal gets A = 0 exactly. A singleton group (G = 1) follows verl: mean 0, std 1, so A = s.
 * Broadcast the result to tokens with {@link broadcastToTokens}.
 *
 * @returns `[B]` advantage per response
 * @example
 * ```ts
 * const advantages = computeGroupAdvantage({ scores, groupSize: 8 });              // GRPO
 * const drGrpo = computeGroupAdvantage({ scores, groupSize: 8, scaling: "none" }); // Dr. GRPO
 * ```
 */
export function computeGroupAdvantage(input: GroupAdvantageInput): tf.Tensor1D {
  const { scores, groupSize, epsilon = 1e-6, scaling = "group" } = input;
  const groups = checkGroups(scores, groupSize);
  return tf.tidy(() => {
    const valid = input.valid
      ? tf.reshape(input.valid, [groups, groupSize])
      : tf.onesLike(tf.reshape(scores, [groups, groupSize]));
    const grid = tf.mul(tf.reshape(scores, [groups, groupSize]), valid);
    if (groupSize === 1) {
      // verl's singleton rule: mean 0 and std 1, whatever the scaling.
      return tf.reshape(tf.div(grid, 1 + epsilon), [groups]) as tf.Tensor1D;
    }
    const count = tf.sum(valid, 1, true);
    const mean = tf.div(tf.sum(grid, 1, true), tf.maximum(count, 1));
    const centred = tf.mul(tf.sub(grid, mean), valid);
    let scaled: tf.Tensor = centred;
    if (scaling === "group") {
      const variance = tf.div(tf.sum(tf.square(centred), 1, true), tf.maximum(tf.sub(count, 1), 1));
      scaled = tf.div(centred, tf.add(tf.sqrt(variance), epsilon));
    } else if (scaling === "batch") {
      const total = tf.maximum(tf.sum(valid), 1);
      const batchMean = tf.div(tf.sum(grid), total);
      const batchVariance = tf.div(
        tf.sum(tf.mul(tf.square(tf.sub(grid, batchMean)), valid)),
        tf.maximum(tf.sub(total, 1), 1),
      );
      scaled = tf.div(centred, tf.add(tf.sqrt(batchVariance), epsilon));
    } else if (scaling !== "none") {
      throw new InvalidArgumentError(`Unknown advantage scaling "${String(scaling)}"`, { field: "scaling" });
    }
    return tf.reshape(scaled, [groups * groupSize]) as tf.Tensor1D;
  });
}

/**
 * RLOO leave-one-out advantage (verl `compute_rloo_outcome_advantage`): A_i = s_i − mean of the other responses
 * of the same prompt = G/(G−1)·(s_i − mean). A singleton group gets A = s.
 *
 * @param scores `[B]` sequence scores, groups contiguous
 * @returns `[B]` advantage per response
 */
export function computeRlooAdvantage(input: {
  scores: tf.Tensor;
  groupSize: number;
  valid?: tf.Tensor;
}): tf.Tensor1D {
  const { scores, groupSize } = input;
  const groups = checkGroups(scores, groupSize);
  return tf.tidy(() => {
    if (groupSize === 1) return tf.reshape(scores, [groups]) as tf.Tensor1D;
    const valid = input.valid
      ? tf.reshape(input.valid, [groups, groupSize])
      : tf.onesLike(tf.reshape(scores, [groups, groupSize]));
    const grid = tf.mul(tf.reshape(scores, [groups, groupSize]), valid);
    const count = tf.sum(valid, 1, true);
    const others = tf.maximum(tf.sub(count, 1), 1);
    // mean of the others = (sum − s_i) / (n − 1)
    const baseline = tf.div(tf.sub(tf.sum(grid, 1, true), grid), others);
    const single = tf.cast(tf.lessEqual(count, 1), "float32");
    const advantage = tf.mul(tf.mul(tf.sub(grid, baseline), tf.sub(1, single)), valid);
    return tf.reshape(advantage, [groups * groupSize]) as tf.Tensor1D;
  });
}

/**
 * Broadcasts one advantage per response `[B]` to its tokens: `[B, T]` = A_i·m_{i,t}.
 *
 * @param advantages `[B]`
 * @param mask `[B, T]`
 */
export function broadcastToTokens(advantages: tf.Tensor, mask: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() => tf.mul(tf.expandDims(advantages, 1), mask) as tf.Tensor2D);
}
