/**
 * Benchmarks of @orbiter/trainer-core. Prints one JSON line per measurement (see CONTRIBUTING.md) and writes the
 * same lines to bench-results/trainer-core.jsonl at the repository root. Progress goes to stderr.
 *
 *   pnpm --filter @orbiter/trainer-core bench
 *
 * The figures are the lifecycle's own cost, to hold against a real optimiser step (tens to hundreds of
 * milliseconds in @orbiter/verl): the targets ask it to stay below 0.1 % of a 100 ms step.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BenchReporter, type Measurement, median } from "../../../scripts/bench-reporter.js";
import { MetricsLogger, ProgressReporter, Trainer, type TrainMetricsInput } from "../src/index.js";

const reporter = new BenchReporter("@orbiter/trainer-core", "trainer-core");
const report = (measurement: Measurement) => reporter.report(measurement);
const log = (message: string) => reporter.log(message);

/** A trainer whose steps do nothing but report: what is measured is the bookkeeping. */
class EmptyStepsTrainer extends Trainer<number[]> {
  async train(): Promise<TrainMetricsInput> {
    const steps = this.dataset?.length ?? 0;
    this.setTotalSteps(steps);
    for (let step = 0; step < steps; step++) {
      await this.reportStep({
        loss: 1 / (step + 1),
        reward: 0.5,
        learningRate: this.learningRate(),
        extra: { kl: 0 },
      });
    }
    await this.reportEpoch({ loss: 0 });
    return { loss: 0 };
  }
  async evaluate(): Promise<TrainMetricsInput> {
    return { loss: 0 };
  }
}

const dir = mkdtempSync(join(tmpdir(), "trainer-core-bench-"));
const STEPS = 20_000;
const nullStream = { write: () => true, isTTY: false };
const dataset = Array.from({ length: STEPS }, (_, index) => index);

for (const variant of ["bare", "logged"] as const) {
  const perStep: number[] = [];
  for (let repeat = 0; repeat < 6; repeat++) {
    const callbacks =
      variant === "bare"
        ? []
        : [
            new MetricsLogger({ path: join(dir, `metrics-${repeat}.jsonl`) }),
            new ProgressReporter({ stream: nullStream }),
          ];
    const trainer = new EmptyStepsTrainer({
      agent: 1,
      rewardFn: 1,
      dataset,
      callbacks,
      config: { warmupSteps: 100 },
    });
    const started = performance.now();
    await trainer.run();
    const micros = ((performance.now() - started) * 1000) / STEPS;
    if (repeat > 0) perStep.push(micros); // the first run warms the JIT up
    log(`${variant} run ${repeat + 1}: ${micros.toFixed(2)} µs per step`);
  }
  report({
    name: variant === "bare" ? "step-overhead" : "step-overhead-with-log-and-progress",
    value: Number(median(perStep).toFixed(2)),
    unit: "µs",
    target: 100,
    comparison: "<=",
    runs: perStep.map((value) => Number(value.toFixed(2))),
    steps: STEPS,
    setup:
      variant === "bare"
        ? "reportStep with no listener"
        : "reportStep feeding a MetricsLogger (one JSON line per step) and a ProgressReporter",
  });
}

// Atomic checkpoint of a small manifest plus a 4 MB file: temporary folder, fsync of every file, rename.
class WeightsTrainer extends EmptyStepsTrainer {
  protected override onSaveCheckpoint(checkpointDir: string) {
    writeFileSync(join(checkpointDir, "weights.bin"), new Uint8Array(4 << 20));
    return { bytes: 4 << 20 };
  }
}
const saver = new WeightsTrainer({ agent: 1, rewardFn: 1, dataset: [1] });
const saves: number[] = [];
for (let repeat = 0; repeat < 6; repeat++) {
  const started = performance.now();
  await saver.saveCheckpoint(join(dir, "checkpoint"));
  saves.push(performance.now() - started);
}
report({
  name: "checkpoint-save-4mb",
  value: Number(median(saves).toFixed(2)),
  unit: "ms",
  runs: saves.map((value) => Number(value.toFixed(2))),
  setup: "trainer-state.json + 4 MB file, fsync and atomic folder swap (no target: disk-bound)",
});

rmSync(dir, { recursive: true, force: true });
reporter.save();
