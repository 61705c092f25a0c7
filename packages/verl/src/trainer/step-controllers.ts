import { createKlController, type KlController } from "../algorithms/adaptive-kl-controller.js";
import type { VeRLConfig } from "../config/verl-config.js";
import { KlAdaptiveLearningRate } from "../optim/kl-adaptive-learning-rate.js";
import { stepLearningRate } from "./critic-warm-up.js";
import type { TrainStepResult } from "./rollout-step.js";
import type { VeRLCheckpointState } from "./verl-trainer-checkpoint.js";

/**
 * The state a `VeRLTrainer` carries from step to step besides the weights and Adam: the KL coefficient β
 * (`adaptiveKl`) and the learning-rate scale of the policy-space trust region (`desiredKl`). Both are saved in
 * the trainer checkpoint, so that a resumed run takes exactly the steps the uninterrupted one would.
 */
export class StepControllers {
  /** The KL coefficient β of the KL penalty. */
  readonly kl: KlController;
  /** The KL-adaptive learning-rate scale. */
  readonly learningRate: KlAdaptiveLearningRate;

  /** @param config the parsed trainer config (the trainer's own object: its schedule is read at each step) */
  constructor(private readonly config: VeRLConfig) {
    this.kl = createKlController(config);
    this.learningRate = new KlAdaptiveLearningRate(config.desiredKl);
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
  state(): Pick<VeRLCheckpointState, "klCoef" | "learningRateScale"> {
    return { klCoef: this.kl.value, learningRateScale: this.learningRate.scale };
  }

  /**
   * Restores what {@link StepControllers.state} saved; a field an older checkpoint lacks takes its start value
   * (`config.klCoef`, scale 1), not whatever the controllers reached before the resume.
   */
  restore(state: VeRLCheckpointState): void {
    this.kl.value = typeof state.klCoef === "number" ? state.klCoef : this.config.klCoef;
    this.learningRate.scale = 1;
    this.learningRate.restore(state.learningRateScale);
  }
}
