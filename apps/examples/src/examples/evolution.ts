/**
 * The guide's "Evolution Pipeline" section. An EvolutionPipeline with the guide's config evolves the two gains of
 * a thermostat's PI controller (an "agent" acting on a simulated room); the score is measured by running the
 * simulation, so it can be checked independently. The strategy's `select` is the guide's (sort, keep the top
 * half). Then a HyperparameterStrategy searches the learning rate and batch size of the trainer example's
 * classifier, scoring each setting by a short training run.
 *
 * Run it: `pnpm --filter @orbiter/examples example src/examples/evolution.ts`
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import {
  type EpochStats,
  type EvolutionPhase,
  EvolutionPipeline,
  type EvolutionResult,
  EvolutionStrategy,
  HyperparameterStrategy,
  type MutationContext,
  type Params,
} from "@orbiter/train";
import { MyTrainer, twoClouds } from "./trainer.js";

/** A PI controller: heater power = kp × error + ki × accumulated error, clipped to [0, 100] %. */
export interface ControllerGains {
  kp: number;
  ki: number;
}

/**
 * Simulates a room heated by the controller for 60 minutes (0.5 min steps): the set point is 20 °C for the first
 * half hour and 24 °C after; the room loses heat to a 10 °C outside. Returns the mean absolute distance to the
 * set point, in °C.
 */
export function trackingError(gains: ControllerGains): number {
  const dt = 0.5;
  const steps = 120;
  let temperature = 10;
  let integral = 0;
  let total = 0;
  for (let step = 0; step < steps; step++) {
    const setPoint = step < steps / 2 ? 20 : 24;
    const error = setPoint - temperature;
    integral += error * dt;
    const power = Math.min(100, Math.max(0, gains.kp * error + gains.ki * integral));
    temperature += dt * (-0.1 * (temperature - 10) + 0.05 * power);
    total += Math.abs(error);
  }
  return total / steps;
}

/** Evolves controller gains: the score is minus the tracking error of the simulated room. */
export class ControllerStrategy extends EvolutionStrategy<ControllerGains> {
  /** Score a candidate. */
  async evaluate(candidate: ControllerGains): Promise<number> {
    return -trackingError(candidate);
  }

  /** Select top candidates (the guide's selection). */
  override async select(
    population: readonly ControllerGains[],
    scores: readonly number[],
  ): Promise<ControllerGains[]> {
    const sorted = population.map((candidate, i) => ({ score: scores[i] as number, candidate }));
    sorted.sort((a, b) => b.score - a.score);
    const cutoff = Math.floor(population.length * 0.5);
    return sorted.slice(0, cutoff).map(({ candidate }) => candidate);
  }

  /** Create a variant: each gain moves with probability `mutationRate`, and at least one always does. */
  async mutate(candidate: ControllerGains, { rng, mutationRate }: MutationContext): Promise<ControllerGains> {
    const moves = [rng.bernoulli(mutationRate), rng.bernoulli(mutationRate)];
    if (!moves[0] && !moves[1]) moves[rng.integer(0, 1)] = true;
    return {
      kp: moves[0] ? Math.max(0, candidate.kp + rng.normal(0, 2)) : candidate.kp,
      ki: moves[1] ? Math.max(0, candidate.ki + rng.normal(0, 0.2)) : candidate.ki,
    };
  }
}

/** The hyper-parameters searched for the trainer example's classifier. */
export const trainerSearchSpace = {
  learningRate: { type: "float", min: 1e-3, max: 3, scale: "log" },
  batchSize: { type: "int", min: 4, max: 128, scale: "log" },
} as const;

/** One point of {@link trainerSearchSpace}. */
export type TrainerParams = Params<typeof trainerSearchSpace>;

/**
 * Scores hyper-parameters by a short run of the trainer example's `MyTrainer` (one epoch over 400 points): minus
 * the held-out log loss. Deterministic for a seed.
 */
export async function shortTrainingRun(params: TrainerParams, seed = 5): Promise<number> {
  const trainer = new MyTrainer({
    agent: { weights: [0, 0], bias: 0 },
    dataset: twoClouds(400, seed),
    testSet: twoClouds(200, seed + 1),
    rewardFn: (prediction, label) => (prediction === label ? 1 : 0),
    config: { epochs: 1, batchSize: params.batchSize, learningRate: params.learningRate, seed },
  });
  const { evaluation } = await trainer.run();
  return -evaluation.loss;
}

/** Options of {@link main}. */
export interface EvolutionExampleOptions {
  /** Folder of the controller run's checkpoint. @default a fresh folder under `os.tmpdir()` */
  dir?: string;
  /** Seed of both runs. @default 0 */
  seed?: number;
  /** Where the account of the run goes. @default console.log */
  log?: (line: string) => void;
}

/** What {@link main} produced. */
export interface EvolutionExampleResult {
  /** The folder holding the checkpoint. */
  dir: string;
  /** The controller run. */
  controller: {
    initialPopulation: ControllerGains[];
    /** Best score among the initial candidates. */
    initialBestScore: number;
    result: EvolutionResult<ControllerGains>;
    /** Phases entered, in order. */
    phases: EvolutionPhase[];
    /** The pipeline's phase after the run. */
    finalPhase: EvolutionPhase;
    /** The checkpoint written at the start of each generation after the first (`pipeline.resume(path)`). */
    checkpointPath: string;
  };
  /** The hyper-parameter search. */
  hyperparameters: {
    result: EvolutionResult<TrainerParams>;
    baseline: { params: TrainerParams; score: number };
  };
}

function formatHistory(history: ReadonlyArray<EpochStats>, digits: number): string[] {
  return history.map(
    (stats) =>
      `  epoch ${stats.epoch}: best ${stats.best.toFixed(digits)}  mean ${stats.mean.toFixed(digits)}  worst ${stats.worst.toFixed(digits)}  diversity ${stats.diversity.toFixed(2)}  evaluations ${stats.evaluations}`,
  );
}

/** Evolves the controller with the guide's config, then searches the trainer's hyper-parameters. */
export async function main(options: EvolutionExampleOptions = {}): Promise<EvolutionExampleResult> {
  const log = options.log ?? console.log;
  const seed = options.seed ?? 0;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), "orbiter-evolution-")));

  // Hand-written first guesses: a weak proportional controller and a few variations.
  const initialPopulation: ControllerGains[] = [
    { kp: 0.5, ki: 0 },
    { kp: 1, ki: 0.01 },
    { kp: 2, ki: 0 },
    { kp: 0.2, ki: 0.05 },
  ];
  const strategy = new ControllerStrategy();
  const initialBestScore = Math.max(
    ...(await Promise.all(initialPopulation.map((c) => strategy.evaluate(c)))),
  );
  const pipeline = new EvolutionPipeline({
    config: { epochs: 5, populationSize: 20, selectionRatio: 0.5, mutationRate: 0.1, seed },
    strategy,
  });
  const phases: EvolutionPhase[] = [pipeline.phase];
  const checkpointPath = join(dir, "controller-evolution.json");
  const result = await pipeline.run(initialPopulation, {
    checkpointPath,
    onProgress: (event) => {
      if (event.type === "phase" && phases.at(-1) !== event.phase) phases.push(event.phase);
    },
  });
  log(
    `Controller gains, evolved from ${initialPopulation.length} first guesses (tracking error ${(-initialBestScore).toFixed(3)} °C at best):`,
  );
  for (const line of formatHistory(result.history, 3)) log(line);
  log(
    `Best score: ${result.bestScore.toFixed(4)} (mean tracking error ${(-result.bestScore).toFixed(3)} °C)`,
  );
  log(`Best gains: kp = ${result.best.kp.toFixed(3)}, ki = ${result.best.ki.toFixed(3)}`);
  log(`Epochs completed: ${result.epochsCompleted}; phase: ${pipeline.phase}; checkpoint: ${checkpointPath}`);

  // A HyperparameterStrategy creates random settings, mutates them on their scale and crosses them over.
  const search = new HyperparameterStrategy({
    space: trainerSearchSpace,
    evaluate: (params) => shortTrainingRun(params),
  });
  const hyperparameters = await new EvolutionPipeline({
    config: { epochs: 4, populationSize: 8, selectionRatio: 0.5, mutationRate: 0.3, seed },
    strategy: search,
  }).run([]);
  const baselineParams: TrainerParams = { learningRate: 1e-3, batchSize: 32 };
  const baseline = { params: baselineParams, score: await shortTrainingRun(baselineParams) };
  log("Trainer hyper-parameters (score: minus held-out log loss after one epoch):");
  for (const line of formatHistory(hyperparameters.history, 4)) log(line);
  log(
    `Best: learningRate ${hyperparameters.best.learningRate.toPrecision(3)}, batchSize ${hyperparameters.best.batchSize} -> ${hyperparameters.bestScore.toFixed(4)} (learningRate 1e-3, batchSize 32 gives ${baseline.score.toFixed(4)})`,
  );

  return {
    dir,
    controller: {
      initialPopulation,
      initialBestScore,
      result,
      phases,
      finalPhase: pipeline.phase,
      checkpointPath,
    },
    hyperparameters: { result: hyperparameters, baseline },
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
