import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EvolutionPipeline } from "@orbiter/evolution";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ControllerStrategy,
  type EvolutionExampleResult,
  main,
  shortTrainingRun,
  trackingError,
  trainerSearchSpace,
} from "./evolution.js";

let dir: string;
let result: EvolutionExampleResult;
const lines: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "example-evolution-"));
  result = await main({ dir, log: (line) => lines.push(line) });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("evolution example", () => {
  it("improves the controller well beyond the first guesses, and the score checks out", () => {
    const { result: run, initialBestScore } = result.controller;
    expect(run.epochsCompleted).toBe(5);
    expect(run.history).toHaveLength(5);
    expect(run.bestScore).toBeGreaterThan(initialBestScore + 1);
    expect(run.bestScore).toBeGreaterThan((run.history[0]?.best ?? 0) + 0.5);
    // The score is the simulation's tracking error: re-running it gives the same number.
    expect(-trackingError(run.best)).toBe(run.bestScore);
    const bestSoFar = run.history.map((stats) => stats.bestSoFar);
    expect(bestSoFar).toEqual([...bestSoFar].sort((a, b) => a - b));
    expect(lines).toContain(
      `Best score: ${run.bestScore.toFixed(4)} (mean tracking error ${(-run.bestScore).toFixed(3)} °C)`,
    );
  });

  it("moves through the phases and ends complete", () => {
    expect(result.controller.phases).toEqual([
      "init",
      ...Array.from({ length: 4 }, () => ["evaluating", "selecting", "mutating"]).flat(),
      "evaluating",
      "complete",
    ]);
    expect(result.controller.finalPhase).toBe("complete");
  });

  it("the guide's select keeps the better half", async () => {
    const strategy = new ControllerStrategy();
    const population = [
      { kp: 1, ki: 0 },
      { kp: 2, ki: 0 },
      { kp: 3, ki: 0 },
      { kp: 4, ki: 0 },
    ];
    const parents = await strategy.select(population, [0.1, 0.4, 0.3, 0.2]);
    expect(parents).toEqual([
      { kp: 2, ki: 0 },
      { kp: 3, ki: 0 },
    ]);
  });

  it("can resume the controller run from its checkpoint with the same outcome", async () => {
    const resumed = await new EvolutionPipeline({
      config: { epochs: 5, populationSize: 20, selectionRatio: 0.5, mutationRate: 0.1, seed: 0 },
      strategy: new ControllerStrategy(),
    }).resume(result.controller.checkpointPath);
    expect(resumed.best).toEqual(result.controller.result.best);
    expect(resumed.bestScore).toBe(result.controller.result.bestScore);
  });

  it("finds trainer hyper-parameters far better than a cautious default, within the search space", async () => {
    const { result: search, baseline } = result.hyperparameters;
    const { learningRate, batchSize } = search.best;
    expect(learningRate).toBeGreaterThanOrEqual(trainerSearchSpace.learningRate.min);
    expect(learningRate).toBeLessThanOrEqual(trainerSearchSpace.learningRate.max);
    expect(Number.isInteger(batchSize)).toBe(true);
    expect(batchSize).toBeGreaterThanOrEqual(4);
    expect(batchSize).toBeLessThanOrEqual(128);
    expect(search.bestScore).toBeGreaterThan(baseline.score + 0.1);
    expect(search.bestScore).toBeGreaterThanOrEqual(search.history[0]?.best ?? Number.POSITIVE_INFINITY);
    // The score is a real training run: repeating it gives the same held-out loss.
    expect(await shortTrainingRun(search.best)).toBe(search.bestScore);
  });
});
