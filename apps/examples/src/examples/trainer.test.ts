import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { logLoss, main, type TrainerExampleResult, twoClouds } from "./trainer.js";

let dir: string;
let result: TrainerExampleResult;
const lines: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "example-trainer-"));
  result = await main({ dir, log: (line) => lines.push(line) });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("trainer example", () => {
  it("goes through the lifecycle states in order", () => {
    expect(result.states).toEqual([
      "created",
      "validating",
      "validated",
      "training",
      "trained",
      "evaluating",
      "complete",
    ]);
    expect(lines.slice(0, 3)).toEqual([
      "state: created -> validating",
      "state: validating -> validated",
      "state: validated -> training",
    ]);
  });

  it("really learns: the held-out accuracy rises from chance and the loss falls", () => {
    expect(result.baselineAccuracy).toBe(0.5);
    expect(result.evaluation.accuracy).toBeGreaterThan(0.85);
    expect(result.evaluation.loss).toBeLessThan(Math.log(2) / 2);
    // Both features point towards label 1: the learned weights must be clearly positive.
    expect(result.model.weights[0]).toBeGreaterThan(0.5);
    expect(result.model.weights[1]).toBeGreaterThan(0.5);
    expect(result.train.extra).toEqual({
      w0: result.model.weights[0],
      w1: result.model.weights[1],
      bias: result.model.bias,
    });
    // The reported evaluation loss is the log loss of the learned model on fresh data from the same clouds.
    expect(logLoss(result.model, twoClouds(200, 43))).toBeCloseTo(result.evaluation.loss, 12);
  });

  it("logs one line per step, per epoch and per evaluation", () => {
    const { records } = result.metricsLog;
    const kinds = (kind: string) => records.filter((record) => record.kind === kind);
    const steps = 10 * Math.ceil(400 / 32);
    expect(result.train.steps).toBe(steps);
    expect(kinds("step").map((record) => record.step)).toEqual(
      Array.from({ length: steps }, (_, i) => i + 1),
    );
    expect(kinds("epoch")).toHaveLength(10);
    // Every 20 steps during training, plus the final evaluation.
    expect(kinds("evaluation").map((record) => [record.step, record.final ?? false])).toEqual([
      [20, false],
      [40, false],
      [60, false],
      [80, false],
      [100, false],
      [120, false],
      [130, true],
    ]);
    const stepLines = kinds("step");
    // The warm-up ramps the learning rate up to its peak over the first 10 steps.
    expect(stepLines[0]?.learningRate).toBeCloseTo(0.05, 12);
    expect(stepLines[9]?.learningRate).toBeCloseTo(0.5, 12);
    expect(stepLines.at(-1)?.learningRate).toBeCloseTo(0.5, 12);
    const firstEpoch = kinds("epoch")[0]?.loss ?? Number.NaN;
    const lastEpoch = kinds("epoch")[9]?.loss ?? Number.NaN;
    expect(lastEpoch).toBeLessThan(firstEpoch);
  });

  it("fails validation without data or reward function, naming both checks", () => {
    expect(result.invalid.failedChecks).toEqual(["checkDataset", "checkReward"]);
    expect(result.invalid.states).toEqual(["created", "validating", "error"]);
  });
});
