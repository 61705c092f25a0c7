import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { JsonValue } from "@orbiter/types";
import { writeFileAtomic } from "@orbiter/types";
import type { TrainConfig, TrainConfigInput } from "../config/train-config.js";
import type { TrainMetricsInput } from "../metrics/train-metrics.js";
import { Trainer, type TrainerOptions } from "../trainer/trainer.js";

/** One (x, y) point. */
export interface Point {
  x: number;
  y: number;
}

/** Points on y = 2x + 1 for x in [-1, 1]. */
export function linePoints(count: number): Point[] {
  return Array.from({ length: count }, (_, index) => {
    const x = count === 1 ? 0 : -1 + (2 * index) / (count - 1);
    return { x, y: 2 * x + 1 };
  });
}

/**
 * A small but real trainer for tests: fits y = w·x + b by mini-batch gradient descent, with shuffling from the
 * trainer's seeded RNG, the learning-rate schedule, gradient clipping, `maxSteps`, `evalEvery` evaluations, epoch
 * reports and checkpoints of its weights. It resumes at epoch boundaries.
 */
export class LinearRegressionTrainer extends Trainer<Point[], TrainConfig, string, (p: Point) => number> {
  weights = { w: 0, b: 0 };

  constructor(options: TrainerOptions<Point[], string, (p: Point) => number, TrainConfigInput> = {}) {
    super({ agent: "linear", rewardFn: () => 0, ...options });
  }

  override async train(): Promise<TrainMetricsInput> {
    const data = this.dataset ?? [];
    const { batchSize, epochs, gradClip } = this.config;
    const batchesPerEpoch = Math.ceil(data.length / batchSize);
    const planned = epochs * batchesPerEpoch;
    this.setTotalSteps(Math.min(planned, this.config.maxSteps ?? planned));
    let lastLoss = this.meanSquaredError();
    for (let epoch = this.progress.epoch; epoch < epochs && !this.reachedMaxSteps(); epoch++) {
      const order = this.rng.shuffle(data);
      let epochLoss = 0;
      for (let start = 0; start < order.length && !this.reachedMaxSteps(); start += batchSize) {
        const batch = order.slice(start, start + batchSize);
        let gradW = 0;
        let gradB = 0;
        let loss = 0;
        for (const point of batch) {
          const error = this.weights.w * point.x + this.weights.b - point.y;
          loss += error * error;
          gradW += 2 * error * point.x;
          gradB += 2 * error;
        }
        loss /= batch.length;
        gradW /= batch.length;
        gradB /= batch.length;
        const norm = Math.hypot(gradW, gradB);
        if (gradClip !== undefined && norm > gradClip) {
          gradW *= gradClip / norm;
          gradB *= gradClip / norm;
        }
        const learningRate = this.learningRate();
        this.weights.w -= learningRate * gradW;
        this.weights.b -= learningRate * gradB;
        epochLoss += loss * batch.length;
        lastLoss = loss;
        await this.reportStep({ loss, learningRate, extra: { gradNorm: norm } });
        if (this.shouldEvaluate()) await this.reportEvaluation({ loss: this.meanSquaredError() });
      }
      await this.reportEpoch({ loss: epochLoss / Math.max(1, order.length) });
    }
    return { loss: lastLoss, extra: { w: this.weights.w, b: this.weights.b } };
  }

  override async evaluate(): Promise<TrainMetricsInput> {
    const data = this.dataset ?? [];
    const close = data.filter((p) => Math.abs(this.weights.w * p.x + this.weights.b - p.y) < 0.1).length;
    return { loss: this.meanSquaredError(), accuracy: data.length === 0 ? 0 : close / data.length };
  }

  protected override async onSaveCheckpoint(dir: string): Promise<JsonValue> {
    await writeFileAtomic(join(dir, "weights.json"), JSON.stringify(this.weights));
    return { parameters: 2 };
  }

  protected override async onResume(dir: string): Promise<void> {
    this.weights = JSON.parse(await readFile(join(dir, "weights.json"), "utf8")) as { w: number; b: number };
  }

  private meanSquaredError(): number {
    const data = this.dataset ?? [];
    if (data.length === 0) return 0;
    let total = 0;
    for (const point of data) total += (this.weights.w * point.x + this.weights.b - point.y) ** 2;
    return total / data.length;
  }
}
