import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { captureError, thrownBy } from "@orbiter/test-support";
import {
  AbortedError,
  CheckpointError,
  deriveSeed,
  InvalidArgumentError,
  InvalidStateError,
  PhaseError,
  SeededRandom,
} from "@orbiter/types";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SphereStrategy, sleep, sphere } from "../__fixtures__/sphere-strategy.js";
import type { EvolutionConfigInput } from "../config/evolution-config.js";
import { tournamentSelection } from "../selection/tournament-selection.js";
import type { EvolutionStrategy, MutationContext } from "../strategy/evolution-strategy.js";
import { EvaluationsFailedError } from "./evaluations-failed-error.js";
import { EvolutionPhase } from "./evolution-phase.js";
import { EvolutionPipeline } from "./evolution-pipeline.js";
import type { EvolutionProgressEvent, EvolutionResult } from "./evolution-result.js";

/** A one-dimensional strategy: candidates are numbers, the optimum is 3. */
const parabola = {
  evaluate: (x: number) => -((x - 3) ** 2),
  mutate: (x: number, { rng }: MutationContext) => x + rng.normal(0, 0.5),
} satisfies EvolutionStrategy<number>;

describe("EvolutionPipeline configuration", () => {
  it("fills in defaults and keeps the guide's fields", () => {
    const pipeline = new EvolutionPipeline({
      config: { epochs: 5, populationSize: 20, selectionRatio: 0.5, mutationRate: 0.1 },
      strategy: parabola,
    });
    expect(pipeline.config).toEqual({
      epochs: 5,
      populationSize: 20,
      selectionRatio: 0.5,
      mutationRate: 0.1,
      elitism: 1,
      crossoverRate: 0.5,
      concurrency: 1,
      seed: 0,
      minDelta: 0,
      cache: true,
      failOnError: false,
    });
    expect(pipeline.phase).toBe(EvolutionPhase.INIT);
  });

  it("names the bad field of a config", () => {
    const cases: Array<[EvolutionConfigInput, string]> = [
      [{ populationSize: 0 }, "config.populationSize"],
      [{ populationSize: 2.5 }, "config.populationSize"],
      [{ selectionRatio: 0 }, "config.selectionRatio"],
      [{ selectionRatio: 1.01 }, "config.selectionRatio"],
      [{ mutationRate: -0.1 }, "config.mutationRate"],
      [{ mutationRate: 1.5 }, "config.mutationRate"],
      [{ crossoverRate: 2 }, "config.crossoverRate"],
      [{ epochs: 0 }, "config.epochs"],
      [{ concurrency: 0 }, "config.concurrency"],
      [{ populationSize: 4, elitism: 5 }, "config.elitism"],
      [{ patience: 0 }, "config.patience"],
      [{ popSize: 3 } as EvolutionConfigInput, "config.popSize"],
    ];
    for (const [config, field] of cases) {
      const error = thrownBy(() => new EvolutionPipeline({ config, strategy: parabola }));
      expect(InvalidArgumentError.isInstance(error) && error.field, JSON.stringify(config)).toBe(field);
    }
    expect(
      () => new EvolutionPipeline({ config: { selectionRatio: 1, mutationRate: 0 }, strategy: parabola }),
    ).not.toThrow();
  });

  it("names a missing or malformed strategy method", () => {
    const cases: Array<[unknown, string]> = [
      [undefined, "strategy"],
      [{ mutate: () => 0 }, "strategy.evaluate"],
      [{ evaluate: () => 0 }, "strategy.mutate"],
      [{ evaluate: () => 0, mutate: () => 0, select: "top" }, "strategy.select"],
      [{ evaluate: () => 0, mutate: () => 0, crossover: 1 }, "strategy.crossover"],
    ];
    for (const [strategy, field] of cases) {
      const error = thrownBy(
        () => new EvolutionPipeline({ strategy: strategy as EvolutionStrategy<number> }),
      );
      expect(InvalidArgumentError.isInstance(error) && error.field).toBe(field);
    }
  });

  it("refuses a misspelt or mistyped option of the constructor, run and resume, naming it", async () => {
    const constructed: Array<[unknown, string]> = [
      [{ strategy: parabola, confg: { epochs: 1 } }, "confg"],
      [{ strategy: parabola, config: null }, "config"],
      [{ strategy: parabola, config: [] }, "config"],
    ];
    for (const [options, field] of constructed) {
      const error = thrownBy(() => new EvolutionPipeline(options as { strategy: typeof parabola }));
      expect(InvalidArgumentError.isInstance(error) && error.field, JSON.stringify(options)).toBe(field);
    }
    const pipeline = new EvolutionPipeline({ config: { epochs: 1, populationSize: 2 }, strategy: parabola });
    const ran: Array<[unknown, string]> = [
      [{ checkpointpath: join(tmpdir(), "evolution-never-written.json") }, "checkpointpath"],
      [{ checkpointPath: 5 }, "checkpointPath"],
      [{ checkpointPath: "" }, "checkpointPath"],
      [{ onProgress: "log" }, "onProgress"],
      [{ signal: {} }, "signal"],
      [null, "options"],
    ];
    for (const [options, field] of ran) {
      const run = await captureError(pipeline.run([1], options as object));
      expect(InvalidArgumentError.isInstance(run) && run.field, JSON.stringify(options)).toBe(field);
      const resumed = await captureError(
        pipeline.resume(join(tmpdir(), "evolution-missing.json"), options as object),
      );
      expect(InvalidArgumentError.isInstance(resumed) && resumed.field, JSON.stringify(options)).toBe(field);
    }
    expect(pipeline.phase).toBe(EvolutionPhase.INIT);
  });

  it("rejects an initial population that is too large, or empty without create()", async () => {
    const pipeline = new EvolutionPipeline({ config: { populationSize: 2 }, strategy: parabola });
    const tooMany = await captureError(pipeline.run([1, 2, 3]));
    expect(InvalidArgumentError.isInstance(tooMany) && tooMany.field).toBe("initialPopulation");
    const empty = await captureError(pipeline.run([]));
    expect(InvalidArgumentError.isInstance(empty) && empty.field).toBe("initialPopulation");
  });
});

describe("EvolutionPipeline optimisation", () => {
  it("finds the optimum of a 5-dimensional sphere within 3,200 evaluations", async () => {
    const pipeline = new EvolutionPipeline({
      config: {
        epochs: 80,
        populationSize: 40,
        selectionRatio: 0.25,
        mutationRate: 0.5,
        elitism: 2,
        seed: 7,
      },
      strategy: new SphereStrategy(),
    });
    const result = await pipeline.run([[4, -3, 2, 5, -1]]);
    expect(sphere([4, -3, 2, 5, -1])).toBe(-55);
    expect(result.bestScore).toBeGreaterThan(-1e-3);
    expect(result.best).toHaveLength(5);
    for (const value of result.best) expect(Math.abs(value)).toBeLessThan(0.03);
    expect(result.evaluations).toBeLessThanOrEqual(80 * 40);
    expect(result.epochsCompleted).toBe(80);
    expect(result.stopReason).toBe("epochs");
    // The best never gets worse (elitism), and history is consistent with the result.
    const bests = result.history.map((stats) => stats.bestSoFar);
    for (let index = 1; index < bests.length; index++) {
      expect(bests[index]).toBeGreaterThanOrEqual(bests[index - 1] as number);
    }
    expect(bests.at(-1)).toBe(result.bestScore);
    expect(result.history.reduce((sum, stats) => sum + stats.evaluations, 0)).toBe(result.evaluations);
    expect(result.history.reduce((sum, stats) => sum + stats.cacheHits, 0)).toBe(result.cacheHits);
    for (const stats of result.history) {
      expect(stats.worst).toBeLessThanOrEqual(stats.mean);
      expect(stats.mean).toBeLessThanOrEqual(stats.best);
      expect(stats.diversity).toBeGreaterThan(0);
      expect(stats.diversity).toBeLessThanOrEqual(1);
    }
    expect(pipeline.phase).toBe("complete");
  });

  it("works with a plain-object strategy and tournament selection", async () => {
    const pipeline = new EvolutionPipeline({
      config: { epochs: 30, populationSize: 16, seed: 1 },
      strategy: {
        ...parabola,
        select: (population, scores, { count, rng }) =>
          tournamentSelection(population, scores, { count, rng }),
      },
    });
    const result = await pipeline.run([-10]);
    expect(result.best).toBeCloseTo(3, 1);
  });

  it("stops when the target score is reached, and after `patience` generations without improvement", async () => {
    const target = await new EvolutionPipeline({
      config: { epochs: 100, populationSize: 10, targetScore: -0.01, seed: 2 },
      strategy: parabola,
    }).run([0]);
    expect(target.stopReason).toBe("target");
    expect(target.bestScore).toBeGreaterThanOrEqual(-0.01);
    expect(target.epochsCompleted).toBeLessThan(100);
    expect(target.history).toHaveLength(target.epochsCompleted);

    const flat = await new EvolutionPipeline({
      config: { epochs: 50, populationSize: 4, patience: 3 },
      strategy: { evaluate: () => 1, mutate: (x: number, { rng }: MutationContext) => x + rng.next() },
    }).run([0]);
    expect(flat.stopReason).toBe("patience");
    expect(flat.epochsCompleted).toBe(4); // one improvement (from nothing), then 3 stale generations

    let calls = 0;
    const creeping = await new EvolutionPipeline({
      config: { epochs: 50, populationSize: 2, elitism: 0, patience: 2, minDelta: 0.5, cache: false },
      strategy: { evaluate: () => ++calls * 0.1, mutate: (x: number) => x },
    }).run([0]);
    expect(creeping.stopReason).toBe("patience");
    expect(creeping.epochsCompleted).toBe(3);
  });
});

describe("EvolutionPipeline evaluation", () => {
  it("never runs more evaluations (or mutations) at once than `concurrency`, and uses all of it", async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    let mutating = 0;
    let maxMutating = 0;
    const strategy: EvolutionStrategy<number> = {
      async evaluate(x: number, { index }) {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await sleep(1 + (index % 3));
        inFlight--;
        return -Math.abs(x);
      },
      async mutate(x: number, { rng }) {
        mutating++;
        maxMutating = Math.max(maxMutating, mutating);
        await sleep(1);
        mutating--;
        return x + rng.normal();
      },
    };
    await new EvolutionPipeline({ config: { epochs: 3, populationSize: 24, concurrency: 4 }, strategy }).run([
      5,
    ]);
    expect(maxInFlight).toBe(4);
    expect(maxMutating).toBe(4);
    expect(inFlight).toBe(0);
  });

  it("gives the same result for the same seed whatever the concurrency and completion order", async () => {
    const make = (concurrency: number, seed = 11) =>
      new EvolutionPipeline({
        config: { epochs: 6, populationSize: 12, concurrency, seed, mutationRate: 0.6 },
        strategy: {
          async evaluate(x: number[], { index, epoch }) {
            // Later indices finish first with concurrency > 1.
            await sleep((deriveSeed(index, epoch) >>> 0) % 4);
            return sphere(x);
          },
          mutate: new SphereStrategy().mutate,
          crossover: new SphereStrategy().crossover,
        } satisfies EvolutionStrategy<number[]>,
      });
    const sequential = await make(1).run([[1, 2, 3]]);
    const parallel = await make(8).run([[1, 2, 3]]);
    expect(parallel).toEqual(sequential);
    const otherSeed = await make(8, 12).run([[1, 2, 3]]);
    expect(otherSeed.best).not.toEqual(sequential.best);
  });

  it("reuses cached scores, scores duplicates once per generation, and carries elites without re-evaluating", async () => {
    const evaluated: number[] = [];
    const strategy = {
      evaluate: (x: number) => {
        evaluated.push(x);
        return -x;
      },
      mutate: (x: number, { rng }: MutationContext) => rng.integer(0, 4) + x * 0,
    } satisfies EvolutionStrategy<number>;
    const result = await new EvolutionPipeline({
      config: { epochs: 5, populationSize: 10, elitism: 2, seed: 3 },
      strategy,
    }).run([0]);
    // Only five distinct candidates exist (0..4): each is evaluated at most once in the whole run.
    expect(new Set(evaluated).size).toBe(evaluated.length);
    expect(result.evaluations).toBe(evaluated.length);
    expect(result.evaluations).toBeLessThanOrEqual(5);
    const carried = 2 * 4; // elites in generations 1-4
    expect(result.evaluations + result.cacheHits + carried).toBe(5 * 10);
    expect(result.best).toBe(0);

    const noCache: number[] = [];
    const uncached = await new EvolutionPipeline({
      config: { epochs: 3, populationSize: 4, elitism: 1, cache: false },
      strategy: {
        ...strategy,
        evaluate: (x: number) => {
          noCache.push(x);
          return -x;
        },
      },
    }).run([0]);
    expect(uncached.evaluations).toBe(4 + 3 + 3);
    expect(uncached.cacheHits).toBe(0);
  });

  it("uses strategy.key for the cache and for diversity", async () => {
    const result = await new EvolutionPipeline({
      config: { epochs: 2, populationSize: 5, elitism: 0 },
      strategy: {
        evaluate: (x: { value: number }) => x.value,
        mutate: (x: { value: number }) => ({ value: x.value + 1 }),
        key: () => "all the same",
      },
    }).run([{ value: 0 }]);
    expect(result.evaluations).toBe(1);
    expect(result.cacheHits).toBe(9);
    expect(result.history.map((stats) => stats.diversity)).toEqual([0.2, 0.2]);
  });

  it("scores a throwing (or NaN) evaluation −∞, records it and carries on", async () => {
    const events: EvolutionProgressEvent[] = [];
    const result = await new EvolutionPipeline({
      config: { epochs: 2, populationSize: 6, cache: false },
      strategy: {
        evaluate: (x: number) => {
          if (x === 1) throw new Error("simulator crashed");
          if (x === 2) return Number.NaN;
          return x;
        },
        mutate: (x: number, { index }) => (x === 0 ? index : x),
      },
    }).run([0], { onProgress: (event) => events.push(event) });
    expect(result.failures.filter((failure) => failure.epoch === 0)).toEqual([
      { epoch: 0, index: 1, message: "simulator crashed", error: expect.any(Error) },
      {
        epoch: 0,
        index: 2,
        message: "strategy.evaluate() returned NaN instead of a number",
        error: expect.any(Error),
      },
    ]);
    expect(result.history[0]?.failures).toBe(2);
    expect(result.history[0]?.worst).toBe(0);
    expect(result.bestScore).toBe(5);
    const failed = events.find((event) => event.type === "evaluation" && event.error !== undefined);
    expect(failed).toMatchObject({ type: "evaluation", epoch: 0, index: 1, score: Number.NEGATIVE_INFINITY });
  });

  it("rejects when no evaluation of a generation succeeds, with the failures and the first as cause", async () => {
    const errors = new Map<number, Error>();
    const error = await captureError(
      new EvolutionPipeline({
        config: { epochs: 3, populationSize: 4, concurrency: 2 },
        strategy: {
          evaluate: (x: number) => {
            const failure = new Error(`candidate ${x} crashed`);
            errors.set(x, failure);
            throw failure;
          },
          mutate: (_x: number, { index }) => index,
        },
      }).run([0]),
    );
    expect(EvaluationsFailedError.isInstance(error)).toBe(true);
    expect(PhaseError.isInstance(error)).toBe(true);
    const failed = error as EvaluationsFailedError;
    expect(failed.phase).toBe("evaluating");
    expect(failed.epoch).toBe(0);
    expect(failed.failures.map(({ epoch, index, message }) => ({ epoch, index, message }))).toEqual(
      [0, 1, 2, 3].map((index) => ({ epoch: 0, index, message: `candidate ${index} crashed` })),
    );
    expect(failed.cause).toBe(errors.get(0));
    expect(failed.message).toContain("all 4 evaluations of generation 0 failed");
  });

  it("rejects a later generation whose evaluations all fail, even after a good one", async () => {
    const error = await captureError(
      new EvolutionPipeline({
        config: { epochs: 3, populationSize: 3, elitism: 0, cache: false },
        strategy: {
          evaluate: (x: number) => {
            if (x >= 10) throw new Error("out of range");
            return x;
          },
          mutate: (x: number) => x + 10,
        },
      }).run([1, 2, 3]),
    );
    expect(EvaluationsFailedError.isInstance(error) && error.epoch).toBe(1);
  });

  it("aborts the run on the first failed evaluation with failOnError", async () => {
    const original = new Error("bad candidate");
    const error = await captureError(
      new EvolutionPipeline({
        config: { epochs: 3, populationSize: 4, failOnError: true },
        strategy: {
          evaluate: (x: number) => {
            if (x > 0) throw original;
            return x;
          },
          mutate: (x: number) => x + 1,
        },
      }).run([0]),
    );
    expect(PhaseError.isInstance(error)).toBe(true);
    expect((error as PhaseError).phase).toBe("evaluating");
    expect((error as PhaseError).cause).toBe(original);
  });

  it("starts no evaluation after the failure with failOnError, even with concurrency", async () => {
    const started: number[] = [];
    const error = await captureError(
      new EvolutionPipeline<number>({
        config: { epochs: 1, populationSize: 20, concurrency: 2, failOnError: true, cache: false },
        strategy: {
          evaluate: async (_x, { index }) => {
            started.push(index);
            await sleep(1);
            if (index === 3) throw new Error(`candidate ${index} failed`);
            return index;
          },
          mutate: (x) => x,
        },
      }).run([0]),
    );
    expect(((error as PhaseError).cause as Error).message).toBe("candidate 3 failed");
    await sleep(10);
    expect(Math.max(...started)).toBeLessThanOrEqual(4);
  });

  it("wraps errors of select and mutate in a PhaseError naming the phase", async () => {
    const select = await captureError(
      new EvolutionPipeline<number>({
        config: { epochs: 2, populationSize: 2 },
        strategy: { ...parabola, select: () => [] },
      }).run([0, 1]),
    );
    expect((select as PhaseError).phase).toBe("selecting");
    expect(InvalidArgumentError.isInstance((select as PhaseError).cause)).toBe(true);

    const mutate = await captureError(
      new EvolutionPipeline<number>({
        config: { epochs: 2, populationSize: 2 },
        strategy: { evaluate: () => 0, mutate: () => undefined as unknown as number },
      }).run([0, 1]),
    );
    expect((mutate as PhaseError).phase).toBe("mutating");
    expect(((mutate as PhaseError).cause as InvalidArgumentError).field).toBe("strategy.mutate");

    const fill = await captureError(
      new EvolutionPipeline<number>({
        config: { populationSize: 3 },
        strategy: {
          evaluate: () => 0,
          mutate: () => {
            throw new TypeError("cannot mutate");
          },
        },
      }).run([0]),
    );
    expect((fill as PhaseError).phase).toBe("init");
  });
});

describe("EvolutionPipeline lifecycle", () => {
  it("goes through the guide's five phases and reports progress", async () => {
    const events: EvolutionProgressEvent[] = [];
    const pipeline = new EvolutionPipeline({ config: { epochs: 2, populationSize: 3 }, strategy: parabola });
    const result = await pipeline.run([0], { onProgress: (event) => events.push(event) });
    const phases = events
      .filter((event) => event.type === "phase")
      .map((event) => `${event.phase}@${event.epoch}`);
    expect(phases).toEqual([
      "init@0",
      "evaluating@0",
      "selecting@0",
      "mutating@0",
      "evaluating@1",
      "complete@1",
    ]);
    expect(events.filter((event) => event.type === "evaluation")).toHaveLength(3 + 2); // elite carried in epoch 1
    expect(events.filter((event) => event.type === "epoch")).toHaveLength(2);
    expect(events.at(-1)).toEqual({ type: "stop", epoch: 1, reason: "epochs" });
    expect(result.epochsCompleted).toBe(2);
    expect(pipeline.phase).toBe(EvolutionPhase.COMPLETE);
  });

  it("fills the population with mutants of the given candidates, or with create()", async () => {
    const parents: number[] = [];
    await new EvolutionPipeline({
      config: { epochs: 1, populationSize: 7 },
      strategy: {
        evaluate: () => 0,
        mutate: (x: number) => {
          parents.push(x);
          return x + 0.5;
        },
      },
    }).run([10, 20]);
    expect(parents).toEqual([10, 20, 10, 20, 10]);

    const created = await new EvolutionPipeline({
      config: { epochs: 1, populationSize: 4 },
      strategy: { ...parabola, create: ({ index }) => index * 10 },
    }).run([]);
    expect(created.population).toEqual([0, 10, 20, 30]);
  });

  it("refuses a second run while one is running, then runs again normally", async () => {
    const pipeline = new EvolutionPipeline({
      config: { epochs: 2, populationSize: 2 },
      strategy: {
        ...parabola,
        evaluate: async (x: number) => {
          await sleep(2);
          return -x;
        },
      },
    });
    const first = pipeline.run([0]);
    expect(InvalidStateError.isInstance(await captureError(pipeline.run([0])))).toBe(true);
    const a = await first;
    const b = await pipeline.run([0]);
    expect(b).toEqual(a);
  });

  it("is cancelled by an AbortSignal, which evaluations receive", async () => {
    const controller = new AbortController();
    let sawAbort = false;
    const pipeline = new EvolutionPipeline({
      config: { epochs: 100, populationSize: 8, concurrency: 2 },
      strategy: {
        async evaluate(x: number, { signal, epoch }) {
          if (epoch === 2) controller.abort(new Error("stop"));
          await sleep(1);
          if (signal.aborted) sawAbort = true;
          return x;
        },
        mutate: (x: number, { rng }) => x + rng.next(),
      },
    });
    const error = await captureError(pipeline.run([0], { signal: controller.signal }));
    expect(AbortedError.isInstance(error)).toBe(true);
    expect(((error as AbortedError).cause as Error).message).toBe("stop");
    expect(pipeline.epoch).toBe(2);
    await sleep(5);
    expect(sawAbort).toBe(true);

    const early = await captureError(pipeline.run([0], { signal: AbortSignal.abort() }));
    expect(AbortedError.isInstance(early)).toBe(true);
  });
});

describe("EvolutionPipeline checkpoints", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "evolution-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const config = { epochs: 12, populationSize: 10, seed: 5, concurrency: 3, mutationRate: 0.5 } as const;
  const strategy = (): EvolutionStrategy<number[]> => {
    const base = new SphereStrategy(0.85);
    return {
      async evaluate(x, { index }) {
        await sleep(index % 3);
        if (x[0] !== undefined && x[0] > 3.5) throw new Error("out of range");
        return sphere(x);
      },
      mutate: (x, context) => base.mutate(x, context),
      crossover: (a, b, context) => base.crossover(a, b, context),
    };
  };

  function withoutErrors(result: EvolutionResult<number[]>) {
    return {
      ...result,
      failures: result.failures.map(({ epoch, index, message }) => ({ epoch, index, message })),
    };
  }

  it("resumes an interrupted run to exactly the result of an unbroken one", async () => {
    const path = join(dir, "state", "evolution.json");
    const unbroken = await new EvolutionPipeline({ config, strategy: strategy() }).run([[3, 3, 3]]);

    const controller = new AbortController();
    const interrupted = new EvolutionPipeline({ config, strategy: strategy() });
    const error = await captureError(
      interrupted.run([[3, 3, 3]], {
        checkpointPath: path,
        signal: controller.signal,
        onProgress: (event) => {
          if (event.type === "checkpoint" && event.epoch === 5) controller.abort();
        },
      }),
    );
    expect(AbortedError.isInstance(error)).toBe(true);
    const saved = JSON.parse(await readFile(path, "utf8"));
    expect(saved).toMatchObject({ format: "orbiter.evolution-checkpoint", version: 1, nextEpoch: 5 });
    expect(saved.history).toHaveLength(5);

    const events: EvolutionProgressEvent[] = [];
    const resumed = await new EvolutionPipeline({ config, strategy: strategy() }).resume(path, {
      onProgress: (event) => events.push(event),
    });
    expect(withoutErrors(resumed)).toEqual(withoutErrors(unbroken));
    expect(events.find((event) => event.type === "phase")).toEqual({
      type: "phase",
      epoch: 5,
      phase: "evaluating",
    });
    // The resumed run keeps checkpointing to the same file.
    expect(JSON.parse(await readFile(path, "utf8")).nextEpoch).toBe(11);
  });

  it("writes scores of -Infinity by name in the checkpoint and resumes with them", async () => {
    const outOfRange = (): EvolutionStrategy<number[]> => {
      const base = new SphereStrategy(0.85);
      return {
        evaluate: (x) => (x[0] !== undefined && x[0] > 3.5 ? Number.NEGATIVE_INFINITY : sphere(x)),
        mutate: (x, context) => base.mutate(x, context),
        crossover: (a, b, context) => base.crossover(a, b, context),
      };
    };
    const path = join(dir, "infinite.json");
    const short = { ...config, epochs: 2 };
    await new EvolutionPipeline({ config: short, strategy: outOfRange() }).run([[3.6, 3, 3]], {
      checkpointPath: path,
    });
    const saved = JSON.parse(await readFile(path, "utf8"));
    const scores = [...saved.carried, ...saved.cache.map(([, score]: [string, unknown]) => score)];
    expect(scores).toContain("-Infinity");
    expect(
      scores.every((score) => score === null || score === "-Infinity" || typeof score === "number"),
    ).toBe(true);
    const longer = { ...short, epochs: 3 };
    const resumed = await new EvolutionPipeline({ config: longer, strategy: outOfRange() }).resume(path);
    const unbroken = await new EvolutionPipeline({ config: longer, strategy: outOfRange() }).run([
      [3.6, 3, 3],
    ]);
    expect(withoutErrors(resumed)).toEqual(withoutErrors(unbroken));
  });

  it("extends a finished run when resumed with more epochs", async () => {
    const path = join(dir, "evolution.json");
    await new EvolutionPipeline({ config, strategy: strategy() }).run([[1, 1, 1]], { checkpointPath: path });
    const longer = await new EvolutionPipeline({
      config: { ...config, epochs: 15 },
      strategy: strategy(),
    }).resume(path);
    expect(longer.epochsCompleted).toBe(15);
    expect(longer.history).toHaveLength(15);
    const error = await captureError(new EvolutionPipeline({ config, strategy: strategy() }).resume(path));
    expect((error as Error).message).toContain("nothing to run");
  });

  it("refuses to resume under a config that changes the search, naming the field", async () => {
    const path = join(dir, "evolution-config.json");
    await new EvolutionPipeline({ config, strategy: strategy() }).run([[1, 1, 1]], { checkpointPath: path });
    const error = await captureError(
      new EvolutionPipeline({ config: { ...config, epochs: 15, seed: 999 }, strategy: strategy() }).resume(
        path,
      ),
    );
    expect(CheckpointError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain("config.seed");
  });

  it("round-trips non-JSON candidates through encode/decode and refuses them without", async () => {
    class Point {
      constructor(readonly x: number) {}
    }
    const base = {
      evaluate: (p: Point) => -Math.abs(p.x - 2),
      mutate: (p: Point, { rng }: MutationContext) => new Point(p.x + rng.normal()),
    };
    const path = join(dir, "points.json");
    const refused = await captureError(
      new EvolutionPipeline({ config: { epochs: 3, populationSize: 3 }, strategy: base }).run(
        [new Point(0)],
        {
          checkpointPath: path,
        },
      ),
    );
    expect(CheckpointError.isInstance(refused)).toBe(true);

    const coded = {
      ...base,
      encode: (p: Point) => p.x,
      decode: (json: unknown) => new Point(json as number),
    };
    const controller = new AbortController();
    await captureError(
      new EvolutionPipeline({ config: { epochs: 4, populationSize: 3 }, strategy: coded }).run(
        [new Point(0)],
        {
          checkpointPath: path,
          signal: controller.signal,
          onProgress: (event) => event.type === "checkpoint" && controller.abort(),
        },
      ),
    );
    const resumed = await new EvolutionPipeline({
      config: { epochs: 4, populationSize: 3 },
      strategy: coded,
    }).resume(path);
    expect(resumed.best).toBeInstanceOf(Point);
    const unbroken = await new EvolutionPipeline({
      config: { epochs: 4, populationSize: 3 },
      strategy: coded,
    }).run([new Point(0)]);
    expect(resumed.bestScore).toBe(unbroken.bestScore);
  });

  it("refuses a missing, malformed or mismatched checkpoint with a CheckpointError naming the file", async () => {
    const pipeline = new EvolutionPipeline({ config, strategy: strategy() });
    const missing = join(dir, "missing.json");
    const error = await captureError(pipeline.resume(missing));
    expect(CheckpointError.isInstance(error) && error.path).toBe(missing);
    const bad = join(dir, "bad.json");
    await writeFile(bad, JSON.stringify({ format: "orbiter.evolution-checkpoint", version: 2 }));
    expect(CheckpointError.isInstance(await captureError(pipeline.resume(bad)))).toBe(true);
    const path = join(dir, "good.json");
    await new EvolutionPipeline({ config: { ...config, epochs: 3 }, strategy: strategy() }).run([[0, 0, 0]], {
      checkpointPath: path,
    });
    const mismatch = await captureError(
      new EvolutionPipeline({ config: { ...config, populationSize: 11 }, strategy: strategy() }).resume(path),
    );
    expect((mismatch as Error).message).toContain("populationSize");
  });
});

describe("SeededRandom use", () => {
  it("keeps the run independent from Math.random", async () => {
    const original = Math.random;
    Math.random = () => {
      throw new Error("Math.random must not be used");
    };
    try {
      const result = await new EvolutionPipeline({
        config: { epochs: 3, populationSize: 5 },
        strategy: parabola,
      }).run([0]);
      expect(result.epochsCompleted).toBe(3);
    } finally {
      Math.random = original;
    }
    expect(new SeededRandom(1).next()).toBe(new SeededRandom(1).next());
  });
});
