import { describe, expectTypeOf, it } from "vitest";
import { z } from "zod";
import { TrainConfig } from "../config/train-config.js";
import type { CompletedTrainMetrics, TrainMetrics, TrainMetricsInput } from "../metrics/train-metrics.js";
import { type DatasetLike, Trainer, type TrainerRunResult } from "./trainer.js";
import type { TrainerState } from "./trainer-state.js";

describe("Trainer types", () => {
  it("types the guide's subclass with the default config and a dataset that has a length", () => {
    class MyTrainer extends Trainer {
      async train() {
        return { loss: 0.5, accuracy: 0.85 };
      }
      async evaluate() {
        return { loss: 0.3 };
      }
    }
    const trainer = new MyTrainer({ config: { epochs: 2 }, dataset: [1, 2] });
    expectTypeOf(trainer.config).toEqualTypeOf<TrainConfig>();
    expectTypeOf(trainer.config.maxSteps).toEqualTypeOf<number | undefined>();
    expectTypeOf(trainer.dataset).toEqualTypeOf<DatasetLike>();
    expectTypeOf(trainer.dataset.length).toEqualTypeOf<number>();
    expectTypeOf(trainer.run()).resolves.toEqualTypeOf<TrainerRunResult>();
    expectTypeOf(trainer.state).toEqualTypeOf<TrainerState>();
    expectTypeOf<TrainerState>().toEqualTypeOf<
      "created" | "validating" | "validated" | "training" | "trained" | "evaluating" | "complete" | "error"
    >();
    // @ts-expect-error unknown config keys are a type error too
    new MyTrainer({ config: { epoch: 2 } });
  });

  it("types a subclass with its own config schema, dataset and train(dataset) signature", () => {
    const RlConfig = TrainConfig.extend({ klCoef: z.number().default(0.1) });
    type RlConfig = z.output<typeof RlConfig>;
    class RlTrainer extends Trainer<string[] | undefined, RlConfig> {
      constructor(config: z.input<typeof RlConfig>) {
        super({ config }, RlConfig);
      }
      async train(dataset?: string[]): Promise<CompletedTrainMetrics> {
        return { loss: dataset?.length ?? 0, steps: 0, extra: { kl: this.config.klCoef } };
      }
      async evaluate(): Promise<TrainMetricsInput> {
        return { loss: 0 };
      }
    }
    const trainer = new RlTrainer({ klCoef: 0.2 });
    expectTypeOf(trainer.config.klCoef).toEqualTypeOf<number>();
    expectTypeOf(trainer.dataset).toEqualTypeOf<string[] | undefined>();
    expectTypeOf(trainer.train).parameters.toEqualTypeOf<[dataset?: string[]]>();
    expectTypeOf<CompletedTrainMetrics["steps"]>().toEqualTypeOf<number>();
    expectTypeOf<TrainMetrics["steps"]>().toEqualTypeOf<number | undefined>();
    expectTypeOf({ loss: 0.5, accuracy: 0.85 }).toExtend<TrainMetrics>();
    expectTypeOf<TrainMetricsInput["steps"]>().toEqualTypeOf<number | undefined>();
  });
});
