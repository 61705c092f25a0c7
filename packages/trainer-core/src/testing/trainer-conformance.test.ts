import { describe, expect, it } from "vitest";
import { LinearRegressionTrainer, linePoints } from "../__fixtures__/linear-regression-trainer.js";
import type { TrainMetricsInput } from "../metrics/train-metrics.js";
import { describeTrainerConformance, runTrainerConformance, trainerConformanceCases } from "./index.js";

const create = () =>
  new LinearRegressionTrainer({
    dataset: linePoints(8),
    config: { batchSize: 2, epochs: 2, seed: 5, evalEvery: 3 },
  });

describeTrainerConformance(
  { describe, it },
  {
    name: "LinearRegressionTrainer",
    create,
    createInvalid: () => new LinearRegressionTrainer({ dataset: [] }),
  },
);

describe("runTrainerConformance", () => {
  it("passes a conforming trainer and lists every case", async () => {
    const report = await runTrainerConformance({ name: "Linear", create });
    expect(report.passed).toBe(true);
    expect(report.results).toHaveLength(trainerConformanceCases({ name: "Linear", create }).length);
    expect(report.results).toHaveLength(9);
  });

  it("catches a trainer whose train is a field that bypasses the state machine", async () => {
    class BypassingTrainer extends LinearRegressionTrainer {
      override train = async (): Promise<TrainMetricsInput> => ({ loss: 1 });
    }
    const report = await runTrainerConformance({
      name: "Bypassing",
      create: () => new BypassingTrainer({ dataset: linePoints(4) }),
    });
    expect(report.passed).toBe(false);
    const failed = report.results.filter((result) => !result.passed).map((result) => result.name);
    expect(failed).toEqual([
      "Bypassing refuses train() before validate() with InvalidStateError, state unchanged",
      "Bypassing supports validate(), train() and evaluate() called one by one",
    ]);
  });

  it("catches metrics.steps that disagree with the steps reported, and non-determinism", async () => {
    let calls = 0;
    class SloppyTrainer extends LinearRegressionTrainer {
      override async train(): Promise<TrainMetricsInput> {
        await super.train();
        calls++;
        return { loss: calls, steps: 999 };
      }
    }
    const report = await runTrainerConformance({
      name: "Sloppy",
      create: () => new SloppyTrainer({ dataset: linePoints(4), config: { batchSize: 2 } }),
    });
    const failed = report.results.filter((result) => !result.passed).map((result) => result.name);
    expect(failed).toEqual([
      "Sloppy numbers its steps 1, 2, 3, ... and its epochs 0, 1, 2, ..., consistent with metrics.steps",
      "Sloppy gives the same metrics for the same config and seed",
    ]);
  });

  it("checks self-validation instead when validatesOnTrain is set", async () => {
    const report = await runTrainerConformance({
      name: "Linear",
      create,
      validatesOnTrain: true,
      checkpoints: false,
    });
    const failed = report.results.filter((result) => !result.passed).map((result) => result.name);
    expect(failed).toEqual(["Linear validates by itself when train() is called on a created trainer"]);
  });
});
