import { deriveSeed, type Sample, SeededRandom } from "@orbiter/types";

/**
 * The prompts of each training step: epoch e visits the samples in a seeded shuffle (seed, "epoch", e), and step s
 * takes batch `s mod stepsPerEpoch` of it. A batch always holds `batchSize` prompts: the last one of an epoch wraps
 * around to its start. The step counter alone locates a batch, which is what makes a resumed run exact.
 */
export class EpochBatches {
  /** Steps of one pass over the samples. */
  readonly stepsPerEpoch: number;
  private order: number[] = [];
  private orderEpoch = -1;

  /**
   * @param samples the training samples (at least one)
   * @param batchSize prompts per step
   * @param seed the run's seed
   */
  constructor(
    private readonly samples: ReadonlyArray<Sample>,
    private readonly batchSize: number,
    private readonly seed: number,
  ) {
    this.stepsPerEpoch = Math.ceil(samples.length / batchSize);
  }

  /** The epoch step `step` belongs to. */
  epochOf(step: number): number {
    return Math.floor(step / this.stepsPerEpoch);
  }

  /** Whether `step` is the last step of its epoch. */
  endsEpoch(step: number): boolean {
    return step % this.stepsPerEpoch === this.stepsPerEpoch - 1;
  }

  /** The `batchSize` prompts of step `step`. */
  prompts(step: number): Sample[] {
    const epoch = this.epochOf(step);
    if (epoch !== this.orderEpoch) {
      this.order = new SeededRandom(deriveSeed(this.seed, "epoch", epoch)).shuffle(
        Array.from({ length: this.samples.length }, (_, i) => i),
      );
      this.orderEpoch = epoch;
    }
    const first = (step % this.stepsPerEpoch) * this.batchSize;
    return Array.from(
      { length: this.batchSize },
      (_, i) => this.samples[this.order[(first + i) % this.samples.length] as number] as Sample,
    );
  }
}
