/**
 * Benchmarks of @orbiter/evolution. Prints one JSON line per measurement (see CONTRIBUTING.md) and writes the
 * same lines to bench-results/evolution.jsonl at the repository root. Progress goes to stderr.
 *
 *   pnpm --filter @orbiter/evolution bench
 */
import { BenchReporter, type Measurement, median } from "../../../scripts/bench-reporter.js";
import { EvolutionPipeline, type EvolutionStrategy, type MutationContext } from "../src/index.js";

const reporter = new BenchReporter("@orbiter/evolution", "evolution");
const report = (measurement: Measurement) => reporter.report(measurement);
const log = (message: string) => reporter.log(message);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const mutate = (x: number, { rng }: MutationContext) => x + rng.normal(0, 1);

// --- Overhead per evaluation with a trivial evaluate -----------------------------------------------------------
// Everything the pipeline does (caching, key computation, concurrency pool, statistics, selection, breeding with
// per-offspring RNG forks) divided by the evaluations actually made. The evaluate itself is a few nanoseconds,
// so the figure is the pipeline's own cost per evaluation (an upper bound: mutate calls are included).
const OVERHEAD_POPULATION = 1000;
const OVERHEAD_EPOCHS = 10;
for (const variant of [
  { concurrency: 1, evaluate: (x: number) => -x * x, label: "sync evaluate, concurrency 1" },
  { concurrency: 16, evaluate: async (x: number) => -x * x, label: "async evaluate, concurrency 16" },
]) {
  const strategy = { evaluate: variant.evaluate, mutate } satisfies EvolutionStrategy<number>;
  const run = async (seed: number) => {
    const pipeline = new EvolutionPipeline({
      config: {
        epochs: OVERHEAD_EPOCHS,
        populationSize: OVERHEAD_POPULATION,
        concurrency: variant.concurrency,
        seed,
      },
      strategy,
    });
    const started = performance.now();
    const result = await pipeline.run([0]);
    return { ms: performance.now() - started, evaluations: result.evaluations };
  };
  for (let warm = 0; warm < 3; warm++) await run(100 + warm); // warm-up (JIT)
  const perEvaluation: number[] = [];
  let evaluations = 0;
  for (let repeat = 1; repeat <= 7; repeat++) {
    const { ms, evaluations: made } = await run(repeat);
    evaluations = made;
    perEvaluation.push((ms * 1000) / made);
    log(`overhead (${variant.label}) run ${repeat}: ${ms.toFixed(1)} ms for ${made} evaluations`);
  }
  report({
    name: `overhead-per-evaluation-c${variant.concurrency}`,
    value: Number(median(perEvaluation).toFixed(2)),
    unit: "µs",
    target: 20,
    comparison: "<=",
    runs: perEvaluation.map((value) => Number(value.toFixed(2))),
    populationSize: OVERHEAD_POPULATION,
    epochs: OVERHEAD_EPOCHS,
    evaluations,
    setup: variant.label,
  });
}

// --- Wall time against the ideal with a 10 ms evaluate ----------------------------------------------------------
// ideal = Σ over epochs of ceil(evaluations_in_epoch / concurrency) × 10 ms. The lateness of setTimeout itself
// (0–1 ms per wave, more on a loaded machine) counts against the pipeline, so each run is paired with a bare
// baseline: the same waves of sleep(10) through a minimal 16-wide promise pool, with no pipeline at all.
const WAIT_MS = 10;
const CONCURRENCY = 16;

async function barePool(count: number, limit: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      await sleep(WAIT_MS);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
}

const ratios: number[] = [];
const baselineRatios: number[] = [];
let detail: Record<string, unknown> = {};
for (let repeat = 0; repeat < 5; repeat++) {
  const pipeline = new EvolutionPipeline({
    config: { epochs: 5, populationSize: 100, concurrency: CONCURRENCY, seed: repeat },
    strategy: {
      evaluate: async (x: number) => {
        await sleep(WAIT_MS);
        return -x * x;
      },
      mutate,
    } satisfies EvolutionStrategy<number>,
  });
  const started = performance.now();
  const result = await pipeline.run([3]);
  const wall = performance.now() - started;
  const perEpoch = result.history.map((stats) => stats.evaluations);
  const ideal = perEpoch.reduce((sum, count) => sum + Math.ceil(count / CONCURRENCY) * WAIT_MS, 0);
  const baselineStarted = performance.now();
  for (const count of perEpoch) await barePool(count, CONCURRENCY);
  const baseline = performance.now() - baselineStarted;
  ratios.push(wall / ideal);
  baselineRatios.push(baseline / ideal);
  detail = {
    wallMs: Number(wall.toFixed(1)),
    baselineMs: Number(baseline.toFixed(1)),
    idealMs: ideal,
    evaluationsPerEpoch: perEpoch,
  };
  log(
    `10 ms evaluate run ${repeat + 1}: wall ${wall.toFixed(1)} ms, bare timers ${baseline.toFixed(1)} ms, ideal ${ideal} ms (${perEpoch.join(", ")})`,
  );
}
report({
  name: "wall-time-vs-ideal",
  value: Number(median(ratios).toFixed(4)),
  unit: "ratio",
  target: 1.1,
  comparison: "<=",
  runs: ratios.map((value) => Number(value.toFixed(4))),
  baselineRatio: Number(median(baselineRatios).toFixed(4)),
  baselineRuns: baselineRatios.map((value) => Number(value.toFixed(4))),
  populationSize: 100,
  epochs: 5,
  concurrency: CONCURRENCY,
  evaluateMs: WAIT_MS,
  ...detail,
});

reporter.save();
