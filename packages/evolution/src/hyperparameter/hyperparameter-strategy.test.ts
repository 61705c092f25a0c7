import { fieldOf } from "@orbiter/test-support";
import { SeededRandom } from "@orbiter/types";
import fc from "fast-check";
import { describe, expect, expectTypeOf, it } from "vitest";
import { EvolutionPipeline } from "../pipeline/evolution-pipeline.js";
import { HyperparameterStrategy } from "./hyperparameter-strategy.js";

const rlSpace = {
  learningRate: { type: "float", min: 1e-5, max: 1e-1, scale: "log" },
  klCoef: { type: "float", min: 0, max: 0.5 },
  temperature: { type: "float", min: 0.1, max: 2 },
  batchSize: { type: "int", min: 4, max: 128, scale: "log" },
  algorithm: { type: "categorical", values: ["ppo", "grpo"] },
} as const;

/** A stand-in for "a short training run": peaks at lr 1e-3, kl 0.1, temperature 0.7, batch 16, GRPO. */
function fakeTrainingReward(params: {
  learningRate: number;
  klCoef: number;
  temperature: number;
  batchSize: number;
  algorithm: string;
}): number {
  return (
    -((Math.log10(params.learningRate) + 3) ** 2) -
    4 * (params.klCoef - 0.1) ** 2 -
    (params.temperature - 0.7) ** 2 -
    0.5 * Math.log2(params.batchSize / 16) ** 2 +
    (params.algorithm === "grpo" ? 1 : 0)
  );
}

describe("HyperparameterStrategy", () => {
  it("types a point of the space from the spec", () => {
    const strategy = new HyperparameterStrategy({ space: rlSpace, evaluate: () => 0 });
    const point = strategy.sample(new SeededRandom(1));
    expectTypeOf(point.learningRate).toEqualTypeOf<number>();
    expectTypeOf(point.algorithm).toEqualTypeOf<"ppo" | "grpo">();
    expect(strategy.names).toEqual(["learningRate", "klCoef", "temperature", "batchSize", "algorithm"]);
    expect(strategy.space.klCoef).toEqual({ type: "float", min: 0, max: 0.5, scale: "linear" });
  });

  it("names the bad field of a search space and of the options", () => {
    const evaluate = () => 0;
    expect(
      fieldOf(
        () => new HyperparameterStrategy({ space: { lr: { type: "float", min: 1, max: 1 } }, evaluate }),
      ),
    ).toBe("space.lr.max");
    expect(
      fieldOf(
        () =>
          new HyperparameterStrategy({
            space: { lr: { type: "float", min: 0, max: 1, scale: "log" } },
            evaluate,
          }),
      ),
    ).toBe("space.lr.min");
    expect(
      fieldOf(
        () => new HyperparameterStrategy({ space: { n: { type: "int", min: 1.5, max: 3 } }, evaluate }),
      ),
    ).toBe("space.n.min");
    expect(
      fieldOf(
        () => new HyperparameterStrategy({ space: { c: { type: "categorical", values: [] } }, evaluate }),
      ),
    ).toBe("space.c.values");
    expect(
      fieldOf(() => new HyperparameterStrategy({ space: { x: { type: "complex" } as never }, evaluate })),
    ).toBe("space.x.type");
    expect(fieldOf(() => new HyperparameterStrategy({ space: {}, evaluate }))).toBe("space");
    expect(fieldOf(() => new HyperparameterStrategy({ space: rlSpace, evaluate: undefined as never }))).toBe(
      "evaluate",
    );
    expect(fieldOf(() => new HyperparameterStrategy({ space: rlSpace, evaluate, mutationScale: 0 }))).toBe(
      "mutationScale",
    );
  });

  it("checks points, naming the parameter", () => {
    const strategy = new HyperparameterStrategy({ space: rlSpace, evaluate: () => 0 });
    const good = {
      learningRate: 1e-3,
      klCoef: 0.1,
      temperature: 1,
      batchSize: 16,
      algorithm: "ppo",
    } as const;
    expect(strategy.check(good)).toBe(good);
    expect(fieldOf(() => strategy.check({ ...good, learningRate: 1 }))).toBe("params.learningRate");
    expect(fieldOf(() => strategy.check({ ...good, batchSize: 16.5 }))).toBe("params.batchSize");
    expect(fieldOf(() => strategy.check({ ...good, algorithm: "dpo" as never }))).toBe("params.algorithm");
    expect(fieldOf(() => strategy.check({ ...good, klCoef: undefined as never }))).toBe("params.klCoef");
  });

  it("samples within bounds, integers as integers, log scales evenly across orders of magnitude", () => {
    const strategy = new HyperparameterStrategy({ space: rlSpace, evaluate: () => 0 });
    const rng = new SeededRandom(5);
    const points = Array.from({ length: 4000 }, () => strategy.sample(rng));
    for (const point of points) expect(strategy.check(point)).toBe(point);
    const decades = [0, 0, 0, 0];
    for (const point of points) decades[Math.min(3, Math.floor(Math.log10(point.learningRate) + 5))]! += 1;
    for (const count of decades) expect(count / points.length).toBeCloseTo(0.25, 1);
    const batches = new Set(points.map((point) => point.batchSize));
    expect(batches.has(4)).toBe(true);
    expect(batches.has(128)).toBe(true);
    expect(new Set(points.map((point) => point.algorithm))).toEqual(new Set(["ppo", "grpo"]));
  });

  it("mutates within bounds, changes at least one parameter, never edits its input", () => {
    const strategy = new HyperparameterStrategy({ space: rlSpace, evaluate: () => 0 });
    fc.assert(
      fc.property(fc.integer(), fc.double({ min: 0.01, max: 1, noNaN: true }), (seed, mutationRate) => {
        const rng = new SeededRandom(seed);
        const parent = strategy.sample(rng);
        const frozen = structuredClone(parent);
        const child = strategy.mutate(parent, { rng, mutationRate, epoch: 0, index: 0 });
        expect(parent).toEqual(frozen);
        expect(strategy.check(child)).toBe(child);
        expect(child).not.toEqual(parent);
      }),
      { numRuns: 300 },
    );
    const rng = new SeededRandom(1);
    const parent = strategy.sample(rng);
    expect(strategy.mutate(parent, { rng, mutationRate: 0, epoch: 0, index: 0 })).toEqual(parent);
    const flipped = strategy.mutate(
      { ...parent, algorithm: "ppo" },
      { rng: new SeededRandom(2), mutationRate: 1, epoch: 0, index: 0 },
    );
    expect(flipped.algorithm).toBe("grpo");
  });

  it("crosses over parameter by parameter, and keys points by value", () => {
    const strategy = new HyperparameterStrategy({ space: rlSpace, evaluate: () => 0 });
    const a = { learningRate: 1e-4, klCoef: 0, temperature: 0.1, batchSize: 4, algorithm: "ppo" } as const;
    const b = { learningRate: 1e-2, klCoef: 0.5, temperature: 2, batchSize: 128, algorithm: "grpo" } as const;
    const rng = new SeededRandom(3);
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const child = strategy.crossover(a, b, { rng, epoch: 0, index: 0 });
      for (const name of strategy.names) {
        expect([a[name], b[name]]).toContain(child[name]);
        seen.add(`${name}:${child[name] === a[name] ? "a" : "b"}`);
      }
    }
    expect(seen.size).toBe(10);
    const reordered = {
      algorithm: "ppo",
      batchSize: 4,
      temperature: 0.1,
      klCoef: 0,
      learningRate: 1e-4,
    } as const;
    expect(strategy.key(reordered)).toBe(strategy.key(a));
    expect(strategy.key(b)).not.toBe(strategy.key(a));
  });

  it("solves a categorical puzzle (a hidden 8-symbol code) within 1,500 evaluations", async () => {
    const symbols = ["red", "green", "blue", "cyan", "magenta", "yellow"] as const;
    const hidden = ["blue", "red", "yellow", "yellow", "green", "magenta", "cyan", "red"];
    const space = Object.fromEntries(
      hidden.map((_, index) => [`slot${index}`, { type: "categorical" as const, values: [...symbols] }]),
    );
    const strategy = new HyperparameterStrategy({
      space,
      evaluate: (params) => hidden.filter((symbol, index) => params[`slot${index}`] === symbol).length,
    });
    const result = await new EvolutionPipeline({
      config: { epochs: 50, populationSize: 30, mutationRate: 0.15, elitism: 2, targetScore: 8, seed: 4 },
      strategy,
    }).run([]);
    expect(result.stopReason).toBe("target");
    expect(result.bestScore).toBe(8);
    expect(strategy.names.map((name) => result.best[name])).toEqual(hidden);
    expect(result.evaluations).toBeLessThanOrEqual(1500);
  });

  it("tunes RL-like settings (log-scale learning rate, KL, temperature, batch size, algorithm)", async () => {
    const strategy = new HyperparameterStrategy({
      space: rlSpace,
      evaluate: (params) => fakeTrainingReward(params),
    });
    const result = await new EvolutionPipeline({
      config: { epochs: 40, populationSize: 24, mutationRate: 0.3, elitism: 2, concurrency: 4, seed: 8 },
      strategy,
    }).run([{ learningRate: 1e-5, klCoef: 0.5, temperature: 2, batchSize: 128, algorithm: "ppo" }]);
    expect(result.best.algorithm).toBe("grpo");
    expect(result.best.learningRate).toBeGreaterThan(5e-4);
    expect(result.best.learningRate).toBeLessThan(2e-3);
    expect(result.best.klCoef).toBeCloseTo(0.1, 1);
    expect(result.best.temperature).toBeCloseTo(0.7, 1);
    expect(result.best.batchSize).toBeGreaterThanOrEqual(12);
    expect(result.best.batchSize).toBeLessThanOrEqual(22);
    expect(result.bestScore).toBeGreaterThan(0.95);
  });
});
