/**
 * The guide's "Trainer" section: `MyTrainer` implements the four checks, `train()` and `evaluate()` of the
 * Trainer lifecycle — here for real, fitting a logistic-regression classifier by mini-batch gradient descent —
 * and runs validate → train → evaluate with state-change events, mid-training evaluations (`evalEvery`) and a
 * JSON-lines metrics log. A second trainer with no data and no reward function shows a failed validation.
 *
 * Run it: `pnpm --filter @orbiter/examples example src/examples/trainer.ts`
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import {
  type MetricsLogRecord,
  readMetricsLog,
  type TrainConfig,
  type TrainConfigInput,
  Trainer,
  type TrainerOptions,
  type TrainerState,
  type TrainMetrics,
} from "@orbiter/trainer-core";
import { SeededRandom, ValidationFailedError } from "@orbiter/types";

/** One labelled example: two features and a 0/1 label. */
export interface LabelledPoint {
  features: [number, number];
  label: 0 | 1;
}

/** The "agent" being trained: a linear classifier `p(label = 1) = sigmoid(w · x + b)`. */
export interface LinearClassifier {
  weights: [number, number];
  bias: number;
}

/** Scores one prediction: 1 when it matches the label, 0 otherwise. */
export type RewardFn = (prediction: 0 | 1, label: 0 | 1) => number;

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** Probability the classifier gives to label 1. */
export function probability(model: LinearClassifier, point: LabelledPoint): number {
  const [w0, w1] = model.weights;
  return sigmoid(w0 * point.features[0] + w1 * point.features[1] + model.bias);
}

/** Mean cross-entropy (log loss) of the classifier on `points`. */
export function logLoss(model: LinearClassifier, points: ReadonlyArray<LabelledPoint>): number {
  let sum = 0;
  for (const point of points) {
    const p = Math.min(1 - 1e-12, Math.max(1e-12, probability(model, point)));
    sum -= point.label === 1 ? Math.log(p) : Math.log(1 - p);
  }
  return sum / points.length;
}

/** Mean reward of the classifier's predictions on `points` (its accuracy, with the 0/1 reward). */
export function meanReward(
  model: LinearClassifier,
  points: ReadonlyArray<LabelledPoint>,
  reward: RewardFn,
): number {
  let sum = 0;
  for (const point of points) sum += reward(probability(model, point) >= 0.5 ? 1 : 0, point.label);
  return sum / points.length;
}

/** Two overlapping Gaussian clouds, centred on (-1, -1) (label 0) and (1, 1) (label 1). */
export function twoClouds(count: number, seed: number): LabelledPoint[] {
  const rng = new SeededRandom(seed);
  return Array.from({ length: count }, (_, i) => {
    const label = (i % 2) as 0 | 1;
    const centre = label === 1 ? 1 : -1;
    return { features: [rng.normal(centre, 1), rng.normal(centre, 1)], label };
  });
}

/** Options of {@link MyTrainer}: the trainer-core options plus a held-out set for evaluations. */
export interface MyTrainerOptions
  extends TrainerOptions<LabelledPoint[], LinearClassifier, RewardFn, TrainConfigInput> {
  /** Data for `evaluate()` and the evaluations every `evalEvery` steps. */
  testSet: LabelledPoint[];
}

/** The guide's MyTrainer: the four checks, a real training loop and an evaluation. */
export class MyTrainer extends Trainer<LabelledPoint[], TrainConfig, LinearClassifier, RewardFn> {
  readonly testSet: LabelledPoint[];

  constructor(options: MyTrainerOptions) {
    // The base constructor refuses options it does not know (a typo must not pass silently): keep ours out.
    const { testSet, ...trainerOptions } = options;
    super(trainerOptions);
    this.testSet = testSet;
  }

  /** Validate agent configuration. */
  override async checkAgent(): Promise<boolean> {
    return this.agent != null;
  }

  /** Validate training dataset. */
  override async checkDataset(): Promise<boolean> {
    return (this.dataset?.length ?? 0) > 0;
  }

  /** Validate reward function. */
  override async checkReward(): Promise<boolean> {
    return this.rewardFn != null;
  }

  /** Validate training config. */
  override async checkConfig(): Promise<boolean> {
    return this.config.epochs > 0;
  }

  /** Run training loop: mini-batch gradient descent on the log loss, with the configured schedule. */
  async train(): Promise<TrainMetrics> {
    const model = this.agent as LinearClassifier;
    const reward = this.rewardFn as RewardFn;
    const data = this.dataset ?? [];
    const { epochs, batchSize } = this.config;
    this.setTotalSteps(epochs * Math.ceil(data.length / batchSize));
    let epochLoss = 0;
    for (let epoch = this.progress.epoch; epoch < epochs; epoch++) {
      const order = this.rng.shuffle(data); // seeded by config.seed
      let lossSum = 0;
      for (let start = 0; start < order.length; start += batchSize) {
        const batch = order.slice(start, start + batchSize);
        const loss = logLoss(model, batch);
        const accuracy = meanReward(model, batch, reward);
        // Gradient of the mean log loss: (p - y) x.
        let g0 = 0;
        let g1 = 0;
        let gb = 0;
        for (const point of batch) {
          const error = probability(model, point) - point.label;
          g0 += (error * point.features[0]) / batch.length;
          g1 += (error * point.features[1]) / batch.length;
          gb += error / batch.length;
        }
        const learningRate = this.learningRate(); // linear warm-up to config.learningRate
        model.weights = [model.weights[0] - learningRate * g0, model.weights[1] - learningRate * g1];
        model.bias -= learningRate * gb;
        lossSum += loss * batch.length;
        await this.reportStep({ loss, accuracy, learningRate });
        if (this.shouldEvaluate()) {
          await this.reportEvaluation({
            loss: logLoss(model, this.testSet),
            accuracy: meanReward(model, this.testSet, reward),
          });
        }
      }
      epochLoss = lossSum / data.length;
      await this.reportEpoch({ loss: epochLoss, accuracy: meanReward(model, data, reward) });
    }
    return {
      loss: epochLoss,
      accuracy: meanReward(model, data, reward),
      steps: this.progress.step,
      extra: { w0: model.weights[0], w1: model.weights[1], bias: model.bias },
    };
  }

  /** Evaluate the trained model on the held-out set. */
  async evaluate(): Promise<TrainMetrics> {
    const model = this.agent as LinearClassifier;
    return {
      loss: logLoss(model, this.testSet),
      accuracy: meanReward(model, this.testSet, this.rewardFn as RewardFn),
      steps: this.progress.step,
      extra: {},
    };
  }
}

/** Options of {@link main}. */
export interface TrainerExampleOptions {
  /** Folder of the metrics log. @default a fresh folder under `os.tmpdir()` */
  dir?: string;
  /** Seed of the data and of the shuffling. @default 42 */
  seed?: number;
  /** Where the account of the run goes. @default console.log */
  log?: (line: string) => void;
}

/** What {@link main} produced. */
export interface TrainerExampleResult {
  /** The folder holding the metrics log. */
  dir: string;
  /** The states the trainer went through, in order. */
  states: TrainerState[];
  /** Accuracy of the untrained classifier on the held-out set. */
  baselineAccuracy: number;
  /** Metrics of the training phase. */
  train: TrainMetrics;
  /** Metrics of the evaluation phase. */
  evaluation: TrainMetrics;
  /** The learned classifier. */
  model: LinearClassifier;
  /** The metrics log, read back. */
  metricsLog: { path: string; records: MetricsLogRecord[] };
  /** The trainer whose validation failed: its states and the failed checks. */
  invalid: { states: TrainerState[]; failedChecks: string[] };
}

/** Trains MyTrainer on 400 points, evaluates it on 200 others, and shows a failed validation. */
export async function main(options: TrainerExampleOptions = {}): Promise<TrainerExampleResult> {
  const log = options.log ?? console.log;
  const seed = options.seed ?? 42;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), "orbiter-trainer-")));

  const model: LinearClassifier = { weights: [0, 0], bias: 0 };
  const testSet = twoClouds(200, seed + 1);
  const reward: RewardFn = (prediction, label) => (prediction === label ? 1 : 0);
  const baselineAccuracy = meanReward(model, testSet, reward);
  const metricsPath = join(dir, "metrics.jsonl");
  const trainer = new MyTrainer({
    agent: model,
    dataset: twoClouds(400, seed),
    testSet,
    rewardFn: reward,
    config: { epochs: 10, batchSize: 32, learningRate: 0.5, warmupSteps: 10, evalEvery: 20, seed },
    metricsLogPath: metricsPath,
  });

  const states: TrainerState[] = [trainer.state];
  trainer.on("stateChange", ({ from, to }) => {
    states.push(to);
    log(`state: ${from} -> ${to}`);
  });
  trainer.on("evaluation", ({ step, metrics, final }) => {
    if (!final) log(`  step ${step}: held-out accuracy ${(metrics.accuracy ?? 0).toFixed(3)}`);
  });

  await trainer.validate();
  const train = await trainer.train();
  const evaluation = await trainer.evaluate();
  log(
    `Trained ${train.steps} steps: loss ${train.loss.toFixed(4)}, training accuracy ${(train.accuracy ?? 0).toFixed(3)}`,
  );
  log(
    `Learned p(1) = sigmoid(${model.weights[0].toFixed(3)} x0 + ${model.weights[1].toFixed(3)} x1 + ${model.bias.toFixed(3)})`,
  );
  log(
    `Held-out accuracy ${(evaluation.accuracy ?? 0).toFixed(3)} (untrained: ${baselineAccuracy.toFixed(3)}), loss ${evaluation.loss.toFixed(4)}`,
  );
  const records = await readMetricsLog(metricsPath);
  log(`Metrics log: ${records.length} lines in ${metricsPath}`);

  // A trainer that cannot start: validation lists every failed check and moves it to "error".
  const invalid = new MyTrainer({
    agent: { weights: [0, 0], bias: 0 },
    dataset: [],
    testSet,
    config: { epochs: 1 },
  });
  const invalidStates: TrainerState[] = [invalid.state];
  invalid.on("stateChange", ({ to }) => {
    invalidStates.push(to);
  });
  let failedChecks: string[] = [];
  try {
    await invalid.validate();
  } catch (error) {
    if (!ValidationFailedError.isInstance(error)) throw error;
    failedChecks = error.failures.map((failure) => failure.check);
    log(`A trainer without data or reward function: ${error.message} (state: ${invalid.state})`);
  }

  return {
    dir,
    states,
    baselineAccuracy,
    train,
    evaluation,
    model,
    metricsLog: { path: metricsPath, records },
    invalid: { states: invalidStates, failedChecks },
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
