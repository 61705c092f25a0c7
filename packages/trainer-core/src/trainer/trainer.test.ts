import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { captureError, thrownBy } from "@orbiter/test-support";
import {
  AbortedError,
  CheckpointError,
  InvalidArgumentError,
  InvalidStateError,
  PhaseError,
  ValidationFailedError,
} from "@orbiter/types";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { LinearRegressionTrainer, linePoints } from "../__fixtures__/linear-regression-trainer.js";
import { TRAINER_STATE_FILE } from "../checkpoint/checkpoint-manifest.js";
import { TrainConfig } from "../config/train-config.js";
import type { TrainMetricsInput } from "../metrics/train-metrics.js";
import { Trainer } from "./trainer.js";
import { TrainerState } from "./trainer-state.js";

/** The training guide's "Trainer" example, as written there. */
class SeedTrainer extends Trainer<string[]> {
  override async checkAgent() {
    return this.agent != null;
  }
  override async checkDataset() {
    return (this.dataset?.length ?? 0) > 0;
  }
  override async checkReward() {
    return this.rewardFn != null;
  }
  override async checkConfig() {
    return this.config.epochs > 0;
  }
  async train(): Promise<TrainMetricsInput> {
    return { loss: 0.5, accuracy: 0.85 };
  }
  async evaluate(): Promise<TrainMetricsInput> {
    return { loss: 0.3, accuracy: 0.9 };
  }
}

const seedOptions = { agent: {}, dataset: ["a"], rewardFn: () => 1, config: { epochs: 10 } };

function recordStates(trainer: { on: SeedTrainer["on"] }): string[] {
  const states: string[] = [];
  trainer.on("stateChange", (event) => {
    states.push(`${event.from}->${event.to}`);
  });
  return states;
}

describe("Trainer lifecycle", () => {
  it("runs the guide's example through the seven states and returns both metrics, completed", async () => {
    const trainer = new SeedTrainer(seedOptions);
    const states = recordStates(trainer);
    expect(trainer.state).toBe(TrainerState.CREATED);
    const result = await trainer.run();
    expect(states).toEqual([
      "created->validating",
      "validating->validated",
      "validated->training",
      "training->trained",
      "trained->evaluating",
      "evaluating->complete",
    ]);
    expect(result).toEqual({
      train: { loss: 0.5, accuracy: 0.85, steps: 0, extra: {} },
      evaluation: { loss: 0.3, accuracy: 0.9, steps: 0, extra: {} },
    });
    expect(trainer.state).toBe("complete");
    expect(trainer.lastMetrics.evaluation).toEqual(result.evaluation);
  });

  it("parses the config with defaults and names a bad field", () => {
    const trainer = new SeedTrainer({ config: { epochs: 3 } });
    expect(trainer.config).toMatchObject({
      epochs: 3,
      batchSize: 32,
      learningRate: 1e-4,
      lrSchedule: "linear-warmup",
    });
    const bad = thrownBy(() => new SeedTrainer({ config: { epochs: 0 } }));
    expect(InvalidArgumentError.isInstance(bad) && bad.field).toBe("config.epochs");
    const unknown = thrownBy(() => new SeedTrainer({ config: { epochs: 1, epoch: 2 } as never }));
    expect(InvalidArgumentError.isInstance(unknown) && unknown.field).toBe("config.epoch");
  });

  it("refuses an unknown constructor option (a typo such as datset), naming it", () => {
    const typo = thrownBy(() => new SeedTrainer({ ...seedOptions, datset: ["a"] } as never));
    expect(InvalidArgumentError.isInstance(typo) && typo.field).toBe("datset");
    expect((typo as Error).message).toContain('"dataset"');
    const notObject = thrownBy(() => new SeedTrainer(42 as never));
    expect(InvalidArgumentError.isInstance(notObject) && notObject.field).toBe("options");
  });

  it("refuses train() before validate() with InvalidStateError and leaves the state alone", async () => {
    const trainer = new SeedTrainer(seedOptions);
    const error = await captureError(trainer.train());
    expect(InvalidStateError.isInstance(error)).toBe(true);
    expect((error as InvalidStateError).state).toBe("created");
    expect((error as Error).message).toContain("call validate() first");
    expect(trainer.state).toBe("created");
    await trainer.validate();
    await expect(trainer.train()).resolves.toMatchObject({ loss: 0.5 });
  });

  it("refuses evaluate() before training, run() twice, and validate() twice", async () => {
    const trainer = new SeedTrainer(seedOptions);
    expect(InvalidStateError.isInstance(await captureError(trainer.evaluate()))).toBe(true);
    await trainer.run();
    const again = await captureError(trainer.run());
    expect(InvalidStateError.isInstance(again)).toBe(true);
    expect((again as Error).message).toContain("run() works once");
    expect(InvalidStateError.isInstance(await captureError(trainer.validate()))).toBe(true);
    expect(InvalidStateError.isInstance(await captureError(trainer.train()))).toBe(true);
    expect(trainer.state).toBe("complete");
  });

  it("allows evaluating again after complete and continuing training after trained", async () => {
    const trainer = new LinearRegressionTrainer({
      dataset: linePoints(8),
      config: { batchSize: 4, epochs: 1 },
    });
    await trainer.validate();
    await trainer.train();
    expect(trainer.progress.step).toBe(2);
    await trainer.train();
    expect(trainer.progress.step).toBe(2); // epochs already done: nothing more to do
    const first = await trainer.evaluate();
    const second = await trainer.evaluate();
    expect(second).toEqual(first);
    expect(trainer.state).toBe("complete");
  });

  it("runs from the validated state without validating again", async () => {
    const trainer = new SeedTrainer(seedOptions);
    await trainer.validate();
    const states = recordStates(trainer);
    await trainer.run();
    expect(states[0]).toBe("validated->training");
  });

  it("refuses a second train() while the first is running", async () => {
    let release: () => void = () => {};
    class SlowTrainer extends SeedTrainer {
      override async train() {
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        return { loss: 1 };
      }
    }
    const trainer = new SlowTrainer(seedOptions);
    await trainer.validate();
    const first = trainer.train();
    const second = await captureError(trainer.train());
    expect(InvalidStateError.isInstance(second)).toBe(true);
    expect((second as Error).message).toContain("another phase is running");
    release();
    await expect(first).resolves.toMatchObject({ loss: 1 });
  });
});

describe("Trainer validation", () => {
  it("lists every failed check in one ValidationFailedError and moves to error", async () => {
    class NothingTrainer extends SeedTrainer {
      override async checkConfig(): Promise<boolean> {
        throw new Error("config exploded");
      }
    }
    const trainer = new NothingTrainer({});
    const states = recordStates(trainer);
    const error = await captureError(trainer.validate());
    expect(ValidationFailedError.isInstance(error)).toBe(true);
    const failures = (error as ValidationFailedError).failures;
    expect(failures.map((failure) => [failure.check, failure.reason])).toEqual([
      ["checkAgent", "returned false"],
      ["checkDataset", "returned false"],
      ["checkReward", "returned false"],
      ["checkConfig", "threw: config exploded"],
    ]);
    expect((failures[3]?.error as Error | undefined)?.message).toBe("config exploded");
    expect(states).toEqual(["created->validating", "validating->error"]);
    expect(trainer.state).toBe("error");
    expect(trainer.error).toBe(error);
    const after = await captureError(trainer.train());
    expect((after as Error).message).toContain("failed earlier");
  });

  it("fails validation with a PhaseError when a state listener throws", async () => {
    const trainer = new SeedTrainer(seedOptions);
    trainer.on("stateChange", (event) => {
      if (event.to === "validated") throw new Error("dashboard offline");
    });
    const error = await captureError(trainer.run());
    expect(PhaseError.isInstance(error) && error.phase).toBe("validation");
    expect(((error as PhaseError).cause as Error).message).toBe("dashboard offline");
    expect(trainer.state).toBe("error");
  });

  it("treats a check that returns a non-boolean as failed", async () => {
    class SloppyTrainer extends SeedTrainer {
      override async checkAgent() {
        return "yes" as unknown as boolean;
      }
    }
    const error = await captureError(new SloppyTrainer(seedOptions).run());
    expect((error as ValidationFailedError).failures).toEqual([
      { check: "checkAgent", reason: "returned string instead of a boolean" },
    ]);
  });

  it("has default checks: agent, reward set; dataset set and non-empty; consistent config", async () => {
    class DefaultsTrainer extends Trainer<unknown> {
      async train() {
        return { loss: 0 };
      }
      async evaluate() {
        return { loss: 0 };
      }
    }
    const ok = new DefaultsTrainer({ agent: 1, dataset: new Set([1]), rewardFn: () => 0 });
    await ok.validate();
    const empty = new DefaultsTrainer({ agent: 1, dataset: [], rewardFn: () => 0 });
    expect(((await captureError(empty.validate())) as ValidationFailedError).failures[0]?.check).toBe(
      "checkDataset",
    );
    const lr = new DefaultsTrainer({
      agent: 1,
      dataset: { custom: true },
      rewardFn: () => 0,
      config: { learningRate: 1e-4, minLearningRate: 1e-3 },
    });
    expect(((await captureError(lr.validate())) as ValidationFailedError).failures[0]?.check).toBe(
      "checkConfig",
    );
  });
});

describe("Trainer phase errors", () => {
  it("moves to error and re-throws an exception in train() as a PhaseError with the original as cause", async () => {
    const original = new Error("out of memory");
    class FailingTrainer extends SeedTrainer {
      override async train(): Promise<TrainMetricsInput> {
        throw original;
      }
    }
    const trainer = new FailingTrainer(seedOptions);
    const events: Array<{ to: string; error?: unknown }> = [];
    trainer.on("stateChange", (event) => {
      events.push({ to: event.to, error: event.error });
    });
    const error = await captureError(trainer.run());
    expect(PhaseError.isInstance(error)).toBe(true);
    expect((error as PhaseError).phase).toBe("training");
    expect((error as PhaseError).cause).toBe(original);
    expect((error as Error).message).toContain("out of memory");
    expect(events.at(-1)).toEqual({ to: "error", error: original });
    expect(trainer.state).toBe("error");
    expect(trainer.error).toBe(original);
    expect(InvalidStateError.isInstance(await captureError(trainer.evaluate()))).toBe(true);
  });

  it("names the evaluation phase when evaluate() throws", async () => {
    class FailingTrainer extends SeedTrainer {
      override async evaluate(): Promise<TrainMetricsInput> {
        throw new RangeError("bad split");
      }
    }
    const error = await captureError(new FailingTrainer(seedOptions).run());
    expect((error as PhaseError).phase).toBe("evaluation");
    expect((error as PhaseError).cause).toBeInstanceOf(RangeError);
  });

  it("fails the phase when train() returns malformed metrics", async () => {
    class MalformedTrainer extends SeedTrainer {
      override async train() {
        return { loss: "low" } as unknown as TrainMetricsInput;
      }
    }
    const error = await captureError(new MalformedTrainer(seedOptions).run());
    expect((error as PhaseError).phase).toBe("training");
    const cause = (error as PhaseError).cause;
    expect(InvalidArgumentError.isInstance(cause) && cause.field).toBe("loss");
  });

  it("fails the phase when a step listener throws, and keeps the original when an error listener throws", async () => {
    const trainer = new LinearRegressionTrainer({ dataset: linePoints(4), config: { batchSize: 2 } });
    trainer.on("step", () => {
      throw new Error("disk full");
    });
    trainer.on("stateChange", (event) => {
      if (event.to === "error") throw new Error("listener bug");
    });
    const error = await captureError(trainer.run());
    expect((error as PhaseError).phase).toBe("training");
    expect(((error as PhaseError).cause as Error).message).toBe("disk full");
  });

  it("stops at the next step when the signal is aborted, with an AbortedError as cause", async () => {
    const controller = new AbortController();
    const trainer = new LinearRegressionTrainer({
      dataset: linePoints(40),
      config: { batchSize: 2, epochs: 5 },
      signal: controller.signal,
    });
    trainer.on("step", (event) => {
      if (event.step === 3) controller.abort(new Error("user pressed ctrl-c"));
    });
    const error = await captureError(trainer.run());
    expect((error as PhaseError).phase).toBe("training");
    expect(AbortedError.isInstance((error as PhaseError).cause)).toBe(true);
    expect(trainer.progress.step).toBe(3);
    expect(trainer.state).toBe("error");
  });

  it("runs evaluate() called from inside train() as an evaluation during training, without a state change", async () => {
    class InlineEvaluator extends SeedTrainer {
      evaluations = 0;
      override async train() {
        await this.reportStep({ loss: 1 });
        const during = await this.evaluate();
        expect(this.state).toBe("training");
        return { loss: during.loss };
      }
      override async evaluate() {
        this.evaluations++;
        return { loss: this.evaluations };
      }
    }
    const trainer = new InlineEvaluator(seedOptions);
    const events: Array<[number, number, boolean]> = [];
    trainer.on("evaluation", (event) => {
      events.push([event.step, event.metrics.loss, event.final]);
    });
    const states = recordStates(trainer);
    const result = await trainer.run();
    expect(result.train.loss).toBe(1);
    expect(result.evaluation.loss).toBe(2);
    expect(events).toEqual([
      [1, 1, false],
      [1, 2, true],
    ]);
    expect(states).toHaveLength(6);
  });

  it("refuses reportStep() outside of training", async () => {
    class EarlyReporter extends SeedTrainer {
      override async evaluate() {
        await this.reportStep({ loss: 1 });
        return { loss: 1 };
      }
    }
    const error = await captureError(new EarlyReporter(seedOptions).run());
    expect((error as PhaseError).phase).toBe("evaluation");
    expect(InvalidStateError.isInstance((error as PhaseError).cause)).toBe(true);
  });
});

describe("Trainer subclassing", () => {
  it("keeps run() on the state machine even when train is an arrow-function field", async () => {
    class ArrowTrainer extends SeedTrainer {
      override train = async () => ({ loss: 2 });
    }
    const trainer = new ArrowTrainer(seedOptions);
    const states = recordStates(trainer);
    const result = await trainer.run();
    expect(result.train.loss).toBe(2);
    expect(states).toHaveLength(6);
  });

  it("refuses (in plain JavaScript) a subclass without train() or evaluate()", () => {
    const Incomplete = class extends (Trainer as unknown as new (options?: object) => object) {
      async train() {
        return { loss: 0 };
      }
    };
    const error = thrownBy(() => new Incomplete({}));
    expect(InvalidArgumentError.isInstance(error) && error.field).toBe("evaluate");
  });

  it("lets a subclass take its dataset in train(dataset) and validate by itself via prepareTrain", async () => {
    class DatasetTrainer extends Trainer<number[]> {
      protected override async prepareTrain(dataset?: number[]) {
        if (dataset !== undefined) this.dataset = dataset;
        if (this.state === TrainerState.CREATED) await this.validate();
      }
      override checkAgent() {
        return true;
      }
      override checkReward() {
        return true;
      }
      async train(_dataset?: number[]) {
        for (const value of this.dataset ?? []) await this.reportStep({ loss: value });
        return { loss: 0 };
      }
      async evaluate() {
        return { loss: 0 };
      }
    }
    const trainer = new DatasetTrainer();
    const states = recordStates(trainer);
    const metrics = await trainer.train([3, 2, 1]);
    expect(metrics).toEqual({ loss: 0, steps: 3, extra: {} });
    expect(states).toEqual([
      "created->validating",
      "validating->validated",
      "validated->training",
      "training->trained",
    ]);
    const empty = await captureError(new DatasetTrainer().train([]));
    expect(ValidationFailedError.isInstance(empty)).toBe(true);
  });

  it("accepts a subclass config schema built on TrainConfig and names its bad fields", async () => {
    const RlConfig = TrainConfig.extend({ klCoef: z.number().nonnegative().default(0.1) });
    type RlConfig = z.output<typeof RlConfig>;
    class RlTrainer extends Trainer<string[], RlConfig> {
      constructor(config: z.input<typeof RlConfig> = {}) {
        super({ config, agent: 1, dataset: ["x"], rewardFn: 1 }, RlConfig);
      }
      async train() {
        return { loss: this.config.klCoef };
      }
      async evaluate() {
        return { loss: 0 };
      }
    }
    const trainer = new RlTrainer({ klCoef: 0.5, epochs: 2 });
    expect(trainer.config.klCoef).toBe(0.5);
    expect(trainer.config.batchSize).toBe(32);
    expect((await trainer.run()).train.loss).toBe(0.5);
    const error = thrownBy(() => new RlTrainer({ klCoef: -1 }));
    expect(InvalidArgumentError.isInstance(error) && error.field).toBe("config.klCoef");
  });
});

describe("Trainer training helpers", () => {
  it("learns y = 2x + 1, reporting steps, epochs and evaluations every evalEvery steps", async () => {
    const trainer = new LinearRegressionTrainer({
      dataset: linePoints(16),
      config: { batchSize: 4, epochs: 30, learningRate: 0.3, warmupSteps: 5, evalEvery: 10, seed: 3 },
    });
    const steps: number[] = [];
    const epochs: number[] = [];
    const evaluations: Array<[number, boolean]> = [];
    const totals = new Set<number | undefined>();
    trainer.on("step", (event) => {
      steps.push(event.step);
      totals.add(event.totalSteps);
    });
    trainer.on("epoch", (event) => {
      epochs.push(event.epoch);
    });
    trainer.on("evaluation", (event) => {
      evaluations.push([event.step, event.final]);
    });
    const { train, evaluation } = await trainer.run();
    expect(steps).toEqual(Array.from({ length: 120 }, (_, index) => index + 1));
    expect(epochs).toEqual(Array.from({ length: 30 }, (_, index) => index));
    expect([...totals]).toEqual([120]);
    expect(evaluations).toEqual([
      ...Array.from({ length: 12 }, (_, index): [number, boolean] => [(index + 1) * 10, false]),
      [120, true],
    ]);
    expect(train.steps).toBe(120);
    expect(train.extra.w).toBeCloseTo(2, 3);
    expect(train.extra.b).toBeCloseTo(1, 3);
    expect(evaluation.accuracy).toBe(1);
  });

  it("stops at maxSteps and follows the learning-rate schedule", async () => {
    const trainer = new LinearRegressionTrainer({
      dataset: linePoints(8),
      config: { batchSize: 2, epochs: 10, maxSteps: 7, learningRate: 0.1, warmupSteps: 4 },
    });
    const rates: number[] = [];
    trainer.on("step", (event) => {
      rates.push(event.metrics.learningRate ?? Number.NaN);
    });
    const { train } = await trainer.run();
    expect(train.steps).toBe(7);
    expect(rates.map((rate) => Number(rate.toFixed(6)))).toEqual([0.025, 0.05, 0.075, 0.1, 0.1, 0.1, 0.1]);
  });

  it("is deterministic for a given seed and differs across seeds", async () => {
    const make = (seed: number) =>
      new LinearRegressionTrainer({ dataset: linePoints(12), config: { batchSize: 3, epochs: 2, seed } });
    const a = await make(1).run();
    const b = await make(1).run();
    const c = await make(2).run();
    expect(b).toEqual(a);
    expect(c.train.extra.w).not.toBe(a.train.extra.w);
  });
});

describe("Trainer checkpoints", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "trainer-core-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const config = { batchSize: 3, epochs: 4, learningRate: 0.2, seed: 9 };

  it("keeps NaN and infinite metrics through a checkpoint (they are not turned into null)", async () => {
    class DivergedTrainer extends Trainer<string[]> {
      async train() {
        return {
          loss: Number.NaN,
          reward: Number.NEGATIVE_INFINITY,
          extra: { kl: Number.POSITIVE_INFINITY, ok: 1 },
        };
      }
      async evaluate() {
        return { loss: 0.25, accuracy: Number.NaN };
      }
    }
    const checkpoint = join(dir, "diverged");
    const trainer = new DivergedTrainer(seedOptions);
    await trainer.run();
    await trainer.saveCheckpoint(checkpoint);
    const resumed = new DivergedTrainer(seedOptions);
    await resumed.resume(checkpoint);
    expect(resumed.lastMetrics).toEqual(trainer.lastMetrics);
    expect(resumed.lastMetrics.train).toEqual({
      loss: Number.NaN,
      reward: Number.NEGATIVE_INFINITY,
      steps: 0,
      extra: { kl: Number.POSITIVE_INFINITY, ok: 1 },
    });
    expect(resumed.lastMetrics.evaluation?.accuracy).toBeNaN();
  });

  it("resumes from a mid-training checkpoint and ends exactly where an unbroken run ends", async () => {
    const unbroken = await new LinearRegressionTrainer({ dataset: linePoints(9), config }).run();

    const first = new LinearRegressionTrainer({ dataset: linePoints(9), config });
    const checkpoint = join(dir, "epoch-2");
    const written: number[] = [];
    first.on("checkpoint", (event) => {
      written.push(event.step);
    });
    first.on("epoch", async (event) => {
      if (event.epoch === 1) await first.saveCheckpoint(checkpoint);
    });
    await first.run();
    expect(written).toEqual([6]);
    expect((await readdir(checkpoint)).sort()).toEqual([TRAINER_STATE_FILE, "weights.json"]);
    const manifest = JSON.parse(await readFile(join(checkpoint, TRAINER_STATE_FILE), "utf8"));
    expect(manifest).toMatchObject({
      format: "orbiter.trainer-checkpoint",
      version: 1,
      trainer: "LinearRegressionTrainer",
      state: "training",
      progress: { step: 6, epoch: 2 },
      config: { epochs: 4, seed: 9 },
      custom: { parameters: 2 },
    });

    const resumed = new LinearRegressionTrainer({ dataset: linePoints(9), config });
    const read = await resumed.resume(checkpoint);
    expect(read.progress).toEqual({ step: 6, epoch: 2 });
    expect(resumed.state).toBe("created");
    const steps: number[] = [];
    resumed.on("step", (event) => {
      steps.push(event.step);
    });
    const result = await resumed.run();
    expect(steps).toEqual([7, 8, 9, 10, 11, 12]);
    expect(result).toEqual(unbroken);
  });

  it("replaces an existing checkpoint and leaves no temporary folders", async () => {
    const trainer = new LinearRegressionTrainer({ dataset: linePoints(9), config });
    const checkpoint = join(dir, "latest");
    await trainer.saveCheckpoint(checkpoint);
    await trainer.run();
    await trainer.saveCheckpoint(checkpoint);
    expect(await readdir(dir)).toEqual(["latest"]);
    const manifest = JSON.parse(await readFile(join(checkpoint, TRAINER_STATE_FILE), "utf8"));
    expect(manifest.progress.step).toBe(12);
    expect(manifest.state).toBe("complete");
  });

  it("never deletes a folder of other files, or a file, that a checkpoint path points at", async () => {
    const trainer = new LinearRegressionTrainer({ dataset: linePoints(9), config });
    const results = join(dir, "results");
    await mkdir(results);
    await writeFile(join(results, "table.csv"), "a,b\n");
    const notes = join(dir, "notes.txt");
    await writeFile(notes, "keep me");
    for (const target of [results, notes]) {
      const error = await captureError(trainer.saveCheckpoint(target));
      expect(CheckpointError.isInstance(error)).toBe(true);
      expect((error as CheckpointError).path).toBe(target);
    }
    expect(await readdir(results)).toEqual(["table.csv"]);
    expect(await readFile(notes, "utf8")).toBe("keep me");
    expect((await readdir(dir)).sort()).toEqual(["notes.txt", "results"]);
  });

  it("keeps the previous checkpoint when the subclass hook fails, and rejects non-JSON custom state", async () => {
    const trainer = new LinearRegressionTrainer({ dataset: linePoints(9), config });
    const checkpoint = join(dir, "latest");
    await trainer.saveCheckpoint(checkpoint);
    class BrokenTrainer extends LinearRegressionTrainer {
      protected override async onSaveCheckpoint(): Promise<never> {
        throw new Error("weights unavailable");
      }
    }
    const broken = new BrokenTrainer({ dataset: linePoints(9), config });
    const error = await captureError(broken.saveCheckpoint(checkpoint));
    expect(CheckpointError.isInstance(error)).toBe(true);
    expect((error as CheckpointError).path).toBe(checkpoint);
    expect(((error as CheckpointError).cause as Error).message).toBe("weights unavailable");
    expect(await readdir(dir)).toEqual(["latest"]);
    expect((await readdir(checkpoint)).sort()).toEqual([TRAINER_STATE_FILE, "weights.json"]);

    class FunctionTrainer extends LinearRegressionTrainer {
      protected override async onSaveCheckpoint() {
        return { fn: (() => 1) as unknown as number };
      }
    }
    const notJson = await captureError(new FunctionTrainer({}).saveCheckpoint(join(dir, "other")));
    expect(CheckpointError.isInstance(notJson)).toBe(true);
    expect(await readdir(dir)).toEqual(["latest"]);
  });

  it("refuses to resume from a folder that is not a checkpoint, or while training", async () => {
    const trainer = new LinearRegressionTrainer({ dataset: linePoints(9), config });
    const missing = await captureError(trainer.resume(join(dir, "nothing")));
    expect(CheckpointError.isInstance(missing)).toBe(true);
    await writeFile(join(dir, TRAINER_STATE_FILE), JSON.stringify({ format: "something-else" }));
    const wrong = await captureError(trainer.resume(dir));
    expect((wrong as Error).message).toContain('"format"');
    await writeFile(join(dir, TRAINER_STATE_FILE), "{ not json");
    expect(((await captureError(trainer.resume(dir))) as Error).message).toContain("not valid JSON");
    await trainer.run();
    expect(InvalidStateError.isInstance(await captureError(trainer.resume(dir)))).toBe(true);
  });

  it("restores the previous progress when the subclass's onResume fails", async () => {
    const source = new LinearRegressionTrainer({ dataset: linePoints(9), config });
    await source.run();
    const checkpoint = join(dir, "done");
    await source.saveCheckpoint(checkpoint);
    await rm(join(checkpoint, "weights.json"));
    const target = new LinearRegressionTrainer({ dataset: linePoints(9), config });
    const error = await captureError(target.resume(checkpoint));
    expect(CheckpointError.isInstance(error)).toBe(true);
    expect(target.progress.step).toBe(0);
  });
});
