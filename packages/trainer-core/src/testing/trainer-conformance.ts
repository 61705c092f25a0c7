import assert from "node:assert/strict";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InvalidStateError, ValidationFailedError } from "@orbiter/types";
import { TRAINER_STATE_FILE } from "../checkpoint/checkpoint-manifest.js";
import type { TrainConfig } from "../config/train-config.js";
import type { CompletedTrainMetrics } from "../metrics/train-metrics.js";
import type { Trainer } from "../trainer/trainer.js";
import type { StepEvent } from "../trainer/trainer-events.js";
import { TrainerState } from "../trainer/trainer-state.js";

/** Any trainer, whatever its dataset, config, agent and reward types. */
export type AnyTrainer = Trainer<unknown, TrainConfig, unknown, unknown>;

/** Options of the trainer conformance suite. */
export interface TrainerConformanceOptions<T extends AnyTrainer = AnyTrainer> {
  /** Name of the trainer, used in the case names. */
  name: string;
  /** Makes a fresh trainer that passes validation and trains quickly (keep it tiny: it is called many times). */
  create: () => T | Promise<T>;
  /** Makes a fresh trainer whose validation must fail (for example with an empty dataset). @default undefined (case skipped) */
  createInvalid?: (() => T | Promise<T>) | undefined;
  /** Arguments to pass to direct `train()` calls (e.g. `() => [dataset]`). @default () => [] */
  trainArgs?: (() => unknown[]) | undefined;
  /**
   * True when `train()` on a `created` trainer validates by itself (a trainer that takes its data in
   * `train(dataset)`); the suite then checks that behaviour instead of the `InvalidStateError`. @default false
   */
  validatesOnTrain?: boolean | undefined;
  /** Check that two trainers made by `create` produce the same metrics. @default true */
  deterministic?: boolean | undefined;
  /** Check the checkpoint round trip. @default true */
  checkpoints?: boolean | undefined;
}

/** One conformance case: a name and a function that throws (an `AssertionError`) when the trainer fails it. */
export interface ConformanceCase {
  /** What the case checks. */
  name: string;
  /** Runs the case. */
  run: () => Promise<void>;
}

/** Outcome of one case in a {@link runTrainerConformance} report. */
export interface ConformanceResult {
  /** Name of the case. */
  name: string;
  /** True when it passed. */
  passed: boolean;
  /** The error it failed with. */
  error?: unknown;
}

/** What {@link runTrainerConformance} returns. */
export interface ConformanceReport {
  /** True when every case passed. */
  passed: boolean;
  /** Every case's outcome, in order. */
  results: ConformanceResult[];
}

/** The functions of a test framework the suite registers its cases with (vitest, jest, mocha, node:test). */
export interface TestFramework {
  describe: (name: string, body: () => void) => unknown;
  it: (name: string, body: () => Promise<void>) => unknown;
}

const happyPath: TrainerState[] = [
  TrainerState.VALIDATING,
  TrainerState.VALIDATED,
  TrainerState.TRAINING,
  TrainerState.TRAINED,
  TrainerState.EVALUATING,
  TrainerState.COMPLETE,
];

function recordStates(trainer: AnyTrainer): TrainerState[] {
  const states: TrainerState[] = [];
  trainer.on("stateChange", (event) => {
    states.push(event.to);
  });
  return states;
}

function assertMetrics(metrics: CompletedTrainMetrics, what: string): void {
  assert.equal(typeof metrics.loss, "number", `${what}.loss must be a number`);
  assert.ok(Number.isInteger(metrics.steps) && metrics.steps >= 0, `${what}.steps must be an integer >= 0`);
  for (const key of ["accuracy", "reward"] as const) {
    if (metrics[key] !== undefined)
      assert.equal(typeof metrics[key], "number", `${what}.${key} must be a number`);
  }
  assert.ok(metrics.extra !== null && typeof metrics.extra === "object", `${what}.extra must be an object`);
  for (const [name, value] of Object.entries(metrics.extra)) {
    assert.equal(typeof value, "number", `${what}.extra.${name} must be a number`);
  }
}

async function rejectsWith(promise: Promise<unknown>, isInstance: (error: unknown) => boolean, what: string) {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  assert.ok(caught !== undefined, `${what} should have thrown`);
  assert.ok(isInstance(caught), `${what} threw ${String(caught)} instead of the expected error kind`);
  return caught;
}

/**
 * The conformance cases a {@link Trainer} subclass must pass, independent of any test framework: lifecycle
 * order, illegal calls, metrics shape, step numbering, validation failures, checkpoint round trip and
 * determinism. Each case makes its own trainers with `options.create`.
 *
 * @example
 * ```ts
 * for (const c of trainerConformanceCases({ name: "MyTrainer", create: () => new MyTrainer(options) })) {
 *   it(c.name, c.run);
 * }
 * ```
 */
export function trainerConformanceCases<T extends AnyTrainer>(
  options: TrainerConformanceOptions<T>,
): ConformanceCase[] {
  const { name } = options;
  const trainArgs = options.trainArgs ?? (() => []);
  const create = async (): Promise<AnyTrainer> => await options.create();
  const cases: ConformanceCase[] = [
    {
      name: `${name} starts in the created state with zeroed progress`,
      run: async () => {
        const trainer = await create();
        assert.equal(trainer.state, TrainerState.CREATED);
        assert.equal(trainer.progress.step, 0);
        assert.equal(trainer.progress.epoch, 0);
      },
    },
    {
      name: `${name} run() goes created → validating → validated → training → trained → evaluating → complete`,
      run: async () => {
        const trainer = await create();
        const states = recordStates(trainer);
        const result = await trainer.run();
        assert.deepEqual(states, happyPath);
        assert.equal(trainer.state, TrainerState.COMPLETE);
        assertMetrics(result.train, "train metrics");
        assertMetrics(result.evaluation, "evaluation metrics");
        assert.deepEqual(trainer.lastMetrics.train, result.train);
        assert.deepEqual(trainer.lastMetrics.evaluation, result.evaluation);
      },
    },
    {
      name: `${name} numbers its steps 1, 2, 3, ... and its epochs 0, 1, 2, ..., consistent with metrics.steps`,
      run: async () => {
        const trainer = await create();
        const steps: StepEvent[] = [];
        const epochs: number[] = [];
        trainer.on("step", (event) => {
          steps.push(event);
        });
        trainer.on("epoch", (event) => {
          epochs.push(event.epoch);
        });
        const { train } = await trainer.run();
        assert.deepEqual(
          steps.map((event) => event.step),
          steps.map((_, index) => index + 1),
          "step events must count up from 1",
        );
        assert.deepEqual(
          epochs,
          epochs.map((_, index) => index),
          "epoch events must count up from 0",
        );
        assert.equal(trainer.progress.step, steps.length);
        if (steps.length > 0)
          assert.equal(train.steps, steps.length, "train metrics.steps must equal the steps taken");
        const { maxSteps } = trainer.config;
        if (maxSteps !== undefined)
          assert.ok(steps.length <= maxSteps, `took ${steps.length} > maxSteps ${maxSteps}`);
        for (const event of steps)
          assert.equal(typeof event.metrics.loss, "number", "step loss must be a number");
      },
    },
    {
      name: `${name} refuses evaluate() before train() with InvalidStateError, state unchanged`,
      run: async () => {
        const trainer = await create();
        await rejectsWith(trainer.evaluate(), InvalidStateError.isInstance, "evaluate() on a new trainer");
        assert.equal(trainer.state, TrainerState.CREATED);
      },
    },
    options.validatesOnTrain
      ? {
          name: `${name} validates by itself when train() is called on a created trainer`,
          run: async () => {
            const trainer = await create();
            const states = recordStates(trainer);
            const metrics = (await trainer.train(...trainArgs())) as CompletedTrainMetrics;
            assert.deepEqual(states, happyPath.slice(0, 4));
            assertMetrics(metrics, "train metrics");
          },
        }
      : {
          name: `${name} refuses train() before validate() with InvalidStateError, state unchanged`,
          run: async () => {
            const trainer = await create();
            await rejectsWith(
              trainer.train(...trainArgs()),
              InvalidStateError.isInstance,
              "train() before validate()",
            );
            assert.equal(trainer.state, TrainerState.CREATED);
            assert.equal(trainer.progress.step, 0);
          },
        },
    {
      name: `${name} supports validate(), train() and evaluate() called one by one`,
      run: async () => {
        const trainer = await create();
        await trainer.validate();
        assert.equal(trainer.state, TrainerState.VALIDATED);
        const train = (await trainer.train(...trainArgs())) as CompletedTrainMetrics;
        assert.equal(trainer.state, TrainerState.TRAINED);
        assertMetrics(train, "train metrics");
        const evaluation = (await trainer.evaluate()) as CompletedTrainMetrics;
        assert.equal(trainer.state, TrainerState.COMPLETE);
        assertMetrics(evaluation, "evaluation metrics");
      },
    },
    {
      name: `${name} refuses a second run() with InvalidStateError and stays complete`,
      run: async () => {
        const trainer = await create();
        await trainer.run();
        await rejectsWith(trainer.run(), InvalidStateError.isInstance, "a second run()");
        await rejectsWith(trainer.validate(), InvalidStateError.isInstance, "validate() after run()");
        assert.equal(trainer.state, TrainerState.COMPLETE);
      },
    },
  ];
  if (options.createInvalid) {
    const createInvalid = options.createInvalid;
    cases.push({
      name: `${name} reports every failed check in a ValidationFailedError and moves to error`,
      run: async () => {
        const trainer: AnyTrainer = await createInvalid();
        const error = (await rejectsWith(
          trainer.validate(),
          ValidationFailedError.isInstance,
          "validate() of an invalid trainer",
        )) as ValidationFailedError;
        assert.ok(error.failures.length > 0, "failures must not be empty");
        const known = new Set(["checkAgent", "checkDataset", "checkReward", "checkConfig"]);
        for (const failure of error.failures)
          assert.ok(known.has(failure.check), `unknown check ${failure.check}`);
        assert.equal(trainer.state, TrainerState.ERROR);
        assert.equal(trainer.error, error);
        await rejectsWith(
          trainer.train(...trainArgs()),
          InvalidStateError.isInstance,
          "train() after a failure",
        );
      },
    });
  }
  if (options.checkpoints ?? true) {
    cases.push({
      name: `${name} saves a checkpoint folder and a new trainer resumes its progress`,
      run: async () => {
        const dir = await mkdtemp(join(tmpdir(), "orbiter-conformance-"));
        try {
          const trainer = await create();
          await trainer.run();
          const checkpoint = join(dir, "checkpoint");
          const manifest = await trainer.saveCheckpoint(checkpoint);
          assert.ok(
            (await stat(join(checkpoint, TRAINER_STATE_FILE))).isFile(),
            `${TRAINER_STATE_FILE} is missing`,
          );
          assert.equal(manifest.progress.step, trainer.progress.step);
          const resumed = await create();
          const read = await resumed.resume(checkpoint);
          assert.deepEqual(read, manifest);
          assert.equal(resumed.progress.step, trainer.progress.step);
          assert.equal(resumed.progress.epoch, trainer.progress.epoch);
          assert.equal(resumed.state, TrainerState.CREATED, "resume() must not change the lifecycle state");
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      },
    });
  }
  if (options.deterministic ?? true) {
    cases.push({
      name: `${name} gives the same metrics for the same config and seed`,
      run: async () => {
        const first = await (await create()).run();
        const second = await (await create()).run();
        assert.deepEqual(second, first);
      },
    });
  }
  return cases;
}

/**
 * Registers the conformance cases with a test framework, inside one `describe` block. Pass the framework's
 * `describe` and `it`, so the suite works with vitest, jest, mocha or `node:test` and needs none of them.
 *
 * @example
 * ```ts
 * import { describe, it } from "vitest";
 * import { describeTrainerConformance } from "@orbiter/trainer-core/testing";
 * describeTrainerConformance({ describe, it }, { name: "MyTrainer", create: () => new MyTrainer(options) });
 * ```
 */
export function describeTrainerConformance<T extends AnyTrainer>(
  framework: TestFramework,
  options: TrainerConformanceOptions<T>,
): void {
  framework.describe(`Trainer conformance: ${options.name}`, () => {
    for (const testCase of trainerConformanceCases(options)) framework.it(testCase.name, testCase.run);
  });
}

/**
 * Runs every conformance case one after the other and reports which passed, without a test framework (for a
 * script, or a CI step).
 *
 * @example
 * ```ts
 * const report = await runTrainerConformance({ name: "MyTrainer", create: () => new MyTrainer(options) });
 * if (!report.passed) console.error(report.results.filter((r) => !r.passed));
 * ```
 */
export async function runTrainerConformance<T extends AnyTrainer>(
  options: TrainerConformanceOptions<T>,
): Promise<ConformanceReport> {
  const results: ConformanceResult[] = [];
  for (const testCase of trainerConformanceCases(options)) {
    try {
      await testCase.run();
      results.push({ name: testCase.name, passed: true });
    } catch (error) {
      results.push({ name: testCase.name, passed: false, error });
    }
  }
  return { passed: results.every((result) => result.passed), results };
}
