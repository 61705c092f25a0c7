import { InvalidArgumentError } from "@orbiter/types";

/** Factor by which {@link KlAdaptiveLearningRate} lowers or raises the rate (rsl_rl's and rl_games' 1.5). */
export const KL_ADAPTIVE_FACTOR = 1.5;

/** Smallest share of the scheduled rate {@link KlAdaptiveLearningRate} goes down to. */
export const MIN_LEARNING_RATE_SCALE = 1e-3;

/**
 * A trust region in policy space, kept by the learning rate: the KL-adaptive rate of rsl_rl's and rl_games' PPO
 * (`schedule="adaptive"`, `desired_kl`), as a multiplier of the configured schedule. After each training step the
 * KL between the policy before and after it is measured; above twice `desiredKl` the scale is divided by 1.5,
 * below half of it multiplied by 1.5, never above 1 (the configured rate, warm-up and decay included, is an upper
 * bound the controller only ever lowers) nor below {@link MIN_LEARNING_RATE_SCALE}. In rsl_rl the rate itself is
 * the state; here the scale is, so that it composes with the warm-up and cosine schedule instead of freezing it.
 *
 * @example
 * ```ts
 * const rate = new KlAdaptiveLearningRate(0.001);
 * rate.update(0.005); // KL 5× the target: rate.scale = 1 / 1.5
 * rate.rateOf(1e-3); // 6.67e-4
 * ```
 */
export class KlAdaptiveLearningRate {
  /** The share of the scheduled rate the next step trains at, in [MIN_LEARNING_RATE_SCALE, 1]. */
  scale = 1;

  /** @param desiredKl the per-step KL to keep, > 0; null turns the controller off (scale stays 1) */
  constructor(readonly desiredKl: number | null) {
    if (desiredKl !== null && !(desiredKl > 0 && Number.isFinite(desiredKl))) {
      throw new InvalidArgumentError(`desiredKl must be finite and > 0, got ${desiredKl}`, {
        field: "desiredKl",
      });
    }
  }

  /** The rate of the next step: the scheduled rate times {@link KlAdaptiveLearningRate.scale}. */
  rateOf(scheduled: number): number {
    return scheduled * this.scale;
  }

  /**
   * Adjusts the scale from the KL the last step moved the policy by. A missing or non-finite measurement (a step
   * with nothing to learn from) leaves it unchanged, as does a switched-off controller.
   */
  update(stepKl: number | undefined): void {
    if (this.desiredKl === null || stepKl === undefined || !Number.isFinite(stepKl)) return;
    if (stepKl > 2 * this.desiredKl)
      this.scale = Math.max(this.scale / KL_ADAPTIVE_FACTOR, MIN_LEARNING_RATE_SCALE);
    else if (stepKl < this.desiredKl / 2) this.scale = Math.min(this.scale * KL_ADAPTIVE_FACTOR, 1);
  }

  /**
   * Restores a scale saved in a checkpoint (a value outside the range is clamped into it; non-finite is ignored).
   * A switched-off controller ignores it: a run resumed without `desiredKl` trains at the schedule.
   */
  restore(scale: unknown): void {
    if (this.desiredKl === null || typeof scale !== "number" || !Number.isFinite(scale)) return;
    this.scale = Math.min(1, Math.max(MIN_LEARNING_RATE_SCALE, scale));
  }
}
