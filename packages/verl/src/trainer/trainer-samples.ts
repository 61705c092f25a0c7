import { InvalidArgumentError, type Sample } from "@orbiter/types";
import { resolveSamples, type VeRLDatasetInput } from "./dataset-input.js";
import { type EvaluateOptions, parseEvaluateOptions } from "./evaluate-policy.js";

/**
 * The samples a trainer works on: the training data (resolved once per dataset object and cached) and the
 * evaluation data (an explicit test set, else the `evalSet` option, else the training data).
 */
export class TrainerSamples {
  private cached: Sample[] | undefined;
  private cachedSource: unknown;
  /** The test set `checkEvaluation` resolved, kept for the `evaluate` call whose arguments it checked. */
  private checked: { testSet: unknown; samples: Sample[] } | undefined;

  /** @param evalSet the `evalSet` option of the trainer */
  constructor(readonly evalSet: VeRLDatasetInput | undefined) {}

  /** The training samples last resolved (undefined before the first `training()`). */
  get loaded(): Sample[] | undefined {
    return this.cached;
  }

  /**
   * The samples of `dataset`, resolved again only when `dataset` is another object than last time.
   *
   * @throws InvalidArgumentError naming `dataset` when there is none, or the bad element
   */
  async training(dataset: VeRLDatasetInput | undefined): Promise<Sample[]> {
    if (dataset === undefined) {
      throw new InvalidArgumentError("No training data: pass it to train(dataset) or to the constructor", {
        field: "dataset",
      });
    }
    if (this.cached === undefined || this.cachedSource !== dataset) {
      this.cached = await resolveSamples(dataset);
      this.cachedSource = dataset;
    }
    return this.cached;
  }

  /** The samples of the `evalSet` option (empty without one). */
  async evalSetSamples(): Promise<Sample[]> {
    return this.evalSet === undefined ? [] : resolveSamples(this.evalSet, "evalSet");
  }

  /**
   * The samples to evaluate on: `testSet`, else the `evalSet` option, else the training data of `dataset`.
   *
   * @throws InvalidArgumentError naming `testSet` when it is empty (an accuracy of 0 over nothing misleads), or
   * its bad element
   */
  async evaluation(
    testSet: VeRLDatasetInput | undefined,
    dataset: VeRLDatasetInput | undefined,
  ): Promise<Sample[]> {
    if (testSet !== undefined) {
      const samples = await resolveSamples(testSet, "testSet");
      if (samples.length > 0) return samples;
      throw new InvalidArgumentError("Nothing to evaluate: testSet is empty", { field: "testSet" });
    }
    if (this.evalSet !== undefined) return resolveSamples(this.evalSet, "evalSet");
    return this.training(dataset);
  }

  /**
   * Checks the arguments of `evaluate(testSet, options)` before its state check, so that a bad one throws an
   * `InvalidArgumentError` naming it and leaves the trainer's state (and its trained policy) as it was; the test
   * set resolved here is kept for that call's {@link TrainerSamples.checkedEvaluation}. Every `evaluate` call
   * comes here first (during training it checks nothing, as `evaluate` then runs without a state check), so
   * nothing kept by an earlier call that failed its state check is ever used.
   */
  async checkEvaluation(
    testSet: unknown,
    options: EvaluateOptions | undefined,
    duringTraining: boolean,
  ): Promise<void> {
    this.checked = undefined;
    if (duringTraining) return;
    parseEvaluateOptions(options);
    if (testSet !== undefined) {
      this.checked = { testSet, samples: await this.evaluation(testSet as VeRLDatasetInput, undefined) };
    }
  }

  /**
   * The samples `evaluate(testSet)` runs on: the ones {@link TrainerSamples.checkEvaluation} resolved for this
   * call, so that a test set is resolved once per call (a `toSamples()` called once), else {@link evaluation}.
   */
  checkedEvaluation(
    testSet: VeRLDatasetInput | undefined,
    dataset: VeRLDatasetInput | undefined,
  ): Promise<Sample[]> {
    const checked = this.checked;
    this.checked = undefined;
    if (checked !== undefined && checked.testSet === testSet) return Promise.resolve(checked.samples);
    return this.evaluation(testSet, dataset);
  }
}
