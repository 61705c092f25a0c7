import { createKlController, type KlController } from "../algorithms/adaptive-kl-controller.js";
import { desiredKlOf, resolveDesiredKl } from "../config/desired-kl.js";
import type { VeRLConfig } from "../config/verl-config.js";
import { KlAdaptiveLearningRate } from "../optim/kl-adaptive-learning-rate.js";
import { stepLearningRate } from "./critic-warm-up.js";
import type { TrainStepResult } from "./rollout-step.js";
import type { VeRLCheckpointState } from "./verl-trainer-checkpoint.js";

/**
 * The state a `VeRLTrainer` carries from step to step besides the weights and Adam: the KL coefficient β
 * (`adaptiveKl`) and the learning-rate scale of the policy-space trust region (`desiredKl`). Both are saved in
 * the trainer checkpoint with the resolved target, so that a resumed run takes exactly the steps the
 * uninterrupted one would.
 */
export class StepControllers {
  /** The KL coefficient β of the KL penalty. */
  readonly kl: KlController;
  /** The KL-adaptive learning-rate scale (its target is set by {@link StepControllers.resolve}). */
  learningRate: KlAdaptiveLearningRate;
  private readonly config: VeRLConfig;

  /** @param config the trainer's parsed config (the same object: `resolve` writes the resolved target to it) */
  constructor(config: VeRLConfig) {
    this.config = config;
    this.kl = createKlController(config);
    this.learningRate = new KlAdaptiveLearningRate(desiredKlOf(config));
  }

  /**
   * Resolves `config.desiredKl: "auto"` (see `resolveDesiredKl`) when training starts, writes the target to the
   * config and steers the learning rate towards it; the scale reached so far is kept.
   *
   * @param freshPolicy the trainer built the policy itself from random weights
   */
  resolve(freshPolicy: boolean): void {
    const target = resolveDesiredKl(this.config.desiredKl, freshPolicy);
    this.config.desiredKl = target;
    if (target === this.learningRate.desiredKl) return;
    const scale = this.learningRate.scale;
    this.learningRate = new KlAdaptiveLearningRate(target);
    this.learningRate.restore(scale);
  }

  /** The rate step `step` trains at: the schedule's (`stepLearningRate`), times the trust region's scale. */
  learningRateAt(step: number, totalSteps: number | undefined): number {
    return this.learningRate.rateOf(stepLearningRate(step, this.config, totalSteps));
  }

  /** Feeds a finished step's measurements to both controllers, and logs the scale the step trained with. */
  update(result: TrainStepResult): void {
    if (this.learningRate.desiredKl !== null) result.metrics["actor/lr_scale"] = this.learningRate.scale;
    this.kl.update(result.meanKl, result.rows);
    this.learningRate.update(result.metrics["actor/step_kl"]);
  }

  /** The checkpoint fields of both controllers. */
  state(): Pick<VeRLCheckpointState, "klCoef" | "learningRateScale" | "desiredKl"> {
    return {
      klCoef: this.kl.value,
      learningRateScale: this.learningRate.scale,
      desiredKl: desiredKlOf(this.config),
    };
  }

  /**
   * Restores what {@link StepControllers.state} saved (fields an older checkpoint lacks keep their start value); a
   * configured `"auto"` takes the target the run trained with.
   */
  restore(state: VeRLCheckpointState): void {
    if (typeof state.klCoef === "number") this.kl.value = state.klCoef;
    const recorded = state.desiredKl;
    if (this.config.desiredKl === "auto" && (recorded === null || typeof recorded === "number")) {
      this.config.desiredKl = recorded;
      this.learningRate = new KlAdaptiveLearningRate(recorded);
    }
    this.learningRate.restore(state.learningRateScale);
  }
}
