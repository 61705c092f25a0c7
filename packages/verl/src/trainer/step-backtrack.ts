import * as tf from "@tensorflow/tfjs";
import type { Policy } from "../model/policy.js";
import { criticVariables } from "./critic-warm-up.js";

/**
 * The policy's weights before a training step, so that a step that moved the policy too far can be taken back
 * part of the way along its own direction: θ ← θ₀ + α·(θ − θ₀), TRPO's backtracking line search reduced to one
 * measured shrink. The critic's own parameters (the value head) are left out: they do not change the policy.
 */
export class StepAnchor {
  private readonly variables: tf.Variable[];
  private readonly before: tf.Tensor[];

  /** Copies the policy's trainable weights (the value head's excepted). */
  constructor(policy: Policy) {
    const critic = new Set(criticVariables(policy));
    this.variables = policy.trainableVariables().filter((variable) => !critic.has(variable));
    this.before = this.variables.map((variable) => tf.clone(variable));
  }

  /**
   * Moves every anchored weight back to `θ₀ + α·(θ − θ₀)`.
   *
   * @param alpha the share of the step to keep, in (0, 1]
   */
  shrink(alpha: number): void {
    this.variables.forEach((variable, i) => {
      const before = this.before[i] as tf.Tensor;
      // Assigned inside the tidy, so that the new value's own handle is freed (the variable keeps its data).
      tf.tidy(() => variable.assign(tf.add(before, tf.mul(tf.sub(variable, before), alpha))));
    });
  }

  /** Frees the copies. */
  dispose(): void {
    tf.dispose(this.before);
  }
}

/**
 * The share of a step to keep so that its KL falls to `bound`: KL grows with the square of a small step's
 * length, so `√(bound / stepKl)`; 1 when the step is within the bound.
 */
export function backtrackShare(stepKl: number, bound: number): number {
  return stepKl > bound ? Math.sqrt(bound / stepKl) : 1;
}
