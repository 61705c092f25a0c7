import { deriveSeed, InvalidStateError, type Sample } from "@orbiter/types";
import type { Policy, VeRLConfigInput } from "@orbiter/verl";
import { VeRLTrainer } from "@orbiter/verl";
import { pathExists } from "../command-line.js";
import { DEFAULT_OPTIONS, type DemoOptions } from "../demo/cli.js";
import { createContext, formatPercent } from "../demo/demo-context.js";
import { type DemoPaths, demoPaths } from "../demo/demo-paths.js";
import {
  AGENT_OPTIONS,
  evaluateGreedy,
  MAX_TURN_TOKENS,
  TRAVEL_AGENT,
  VERIFIER_REWARD,
} from "../demo/evaluation.js";
import { runCapture } from "../demo/phases/capture.js";
import { runSft } from "../demo/phases/sft.js";
import { runSynthesis } from "../demo/phases/synthesis.js";
import { loadPolicy } from "../demo/policy-factory.js";
import { readSamples } from "../demo/sample-files.js";

/** The RL algorithms the sweep compares. */
export type SweepAlgorithm = "grpo" | "ppo";

/** Settings of {@link runWarmStartSweep}. */
export interface WarmStartSweepOptions {
  /** Demo output folder holding (or to receive) the datasets and the SFT checkpoint. */
  out: string;
  /** Algorithms to run, in order. @default ["grpo", "ppo"] */
  algorithms?: ReadonlyArray<SweepAlgorithm>;
  /** Peak learning rates to run, in order. @default [1e-4, 3e-4, 1e-3] */
  learningRates?: ReadonlyArray<number>;
  /** Demo seed (the datasets, the SFT checkpoint and the RL seeds derive from it). @default 7 */
  seed?: number;
  /**
   * Give the SFT policy rotary position embeddings (the demo's `--rotary`) when the warm start is built here; an
   * existing checkpoint in `out` is used as it is. @default false
   */
  rotary?: boolean;
  /** GRPO steps. @default the demo's (`DEFAULT_OPTIONS.rlSteps`) */
  grpoSteps?: number;
  /** PPO steps. @default the demo's (`DEFAULT_OPTIONS.ppoSteps`) */
  ppoSteps?: number;
  /** Config fields set on every run on top of the defaults (to measure one mechanism at a time). @default {} */
  overrides?: Readonly<Record<string, unknown>>;
  /**
   * Pass the SFT's own Adam moments (saved beside the checkpoint) as the trainer's `optimizerState` option, and
   * fail when the checkpoint has none. Without it the trainer still carries them, as loaded with the policy,
   * unless `overrides` sets `carryOptimizerState: false`. @default false
   */
  carryOptimizer?: boolean;
  /** Receives one line per step of diagnostics, and progress lines. @default nothing */
  log?: (line: string) => void;
}

/** Per-step diagnostics of one run. */
export interface SweepStep {
  step: number;
  learningRate: number;
  reward: number;
  referenceKl: number;
  ppoKl: number;
  /** KL(π_old ‖ π_new) of the step's own update (`actor/step_kl`; measured only with `desiredKl`, else NaN). */
  stepKl: number;
  /** Milliseconds of the step's update (`timing/update_ms`) and of its step-KL forward pass within it. */
  updateMs: number;
  stepKlMs: number;
  clipFraction: number;
  gradNorm: number;
  entropy: number;
  /** ‖θ_t − θ_{t−1}‖ / ‖θ_0‖ over the language-model weights (value head excluded). */
  updateSize: number;
  /** ‖θ_t − θ_0‖ / ‖θ_0‖: how far the policy has moved from the warm start. */
  drift: number;
}

/** One cell of the table: an algorithm at a learning rate. */
export interface SweepRow {
  algorithm: SweepAlgorithm;
  learningRate: number;
  steps: number;
  /** Held-out test accuracy of the SFT checkpoint. */
  before: number;
  /** Held-out test accuracy after RL. */
  after: number;
  /** Validation accuracy after RL. */
  validationAfter: number;
  /** Training reward of the first and last five steps (means). */
  rewardStart: number;
  rewardEnd: number;
  trace: SweepStep[];
}

/** The sizes the demo's RL phase runs with: everything else is left at the library's defaults. */
export function sweepConfig(
  algorithm: SweepAlgorithm,
  learningRate: number,
  steps: number,
  trainSize: number,
  seed: number,
  overrides: Readonly<Record<string, unknown>> = {},
): VeRLConfigInput {
  const { rlBatchSize, groupSize } = DEFAULT_OPTIONS;
  // GRPO: the demo's prompts per step and group size. PPO samples one answer per prompt, so it gets as many
  // answers per step as the demo gives it (prompts × half the group).
  const batchSize = algorithm === "grpo" ? rlBatchSize : rlBatchSize * Math.max(1, Math.floor(groupSize / 2));
  const sizes = algorithm === "grpo" ? { batchSize, groupSize } : { batchSize };
  return {
    algorithm,
    learningRate,
    ...sizes,
    maxNewTokens: MAX_TURN_TOKENS,
    maxSteps: steps,
    epochs: Math.ceil(steps / Math.ceil(trainSize / batchSize)),
    seed: deriveSeed(seed, algorithm),
    ...overrides,
  } as VeRLConfigInput;
}

/** Runs the demo's capture, synthesis and SFT phases into `paths` unless its SFT checkpoint is already there. */
export async function ensureWarmStart(
  paths: DemoPaths,
  seed: number,
  log: (line: string) => void,
  rotary = false,
): Promise<void> {
  if (await pathExists(paths.result("sft"))) return;
  const model = { ...DEFAULT_OPTIONS.model, rotary };
  const options: DemoOptions = { ...DEFAULT_OPTIONS, model, seed, out: paths.root, backend: "wasm" };
  const quiet = { write: () => true };
  const context = createContext(options, paths, "wasm", {
    stdout: {
      write: (text: string) => {
        log(text.trimEnd());
        return true;
      },
    },
    stderr: quiet,
  });
  await runCapture(context);
  await runSynthesis(context);
  await runSft(context);
}

function languageModelWeights(policy: Policy): Float32Array[] {
  return [...policy.getWeights()]
    .filter(([name]) => !name.startsWith("value_head"))
    .map(([, tensor]) => tensor.data);
}

function distance(a: ReadonlyArray<Float32Array>, b: ReadonlyArray<Float32Array>): number {
  let sum = 0;
  a.forEach((values, i) => {
    const other = b[i] as Float32Array;
    for (let j = 0; j < values.length; j++) sum += ((values[j] as number) - (other[j] as number)) ** 2;
  });
  return Math.sqrt(sum);
}

function norm(a: ReadonlyArray<Float32Array>): number {
  let sum = 0;
  for (const values of a) for (const value of values) sum += value * value;
  return Math.sqrt(sum);
}

function meanOf(values: ReadonlyArray<number>): number {
  return values.length === 0 ? Number.NaN : values.reduce((sum, value) => sum + value, 0) / values.length;
}

/** Formats one step of diagnostics. */
export function formatStep(label: string, step: SweepStep): string {
  const f = (value: number, digits = 3) => (Number.isFinite(value) ? value.toFixed(digits) : "n/a");
  return (
    `${label} step ${String(step.step).padStart(3)} lr ${step.learningRate.toExponential(1)} reward ${f(step.reward)} ` +
    `refKL ${f(step.referenceKl, 4)} ppoKL ${f(step.ppoKl, 4)} stepKL ${f(step.stepKl, 5)} clip ${f(step.clipFraction)} grad ${f(step.gradNorm, 2)} ` +
    `H ${f(step.entropy)} dθ ${step.updateSize.toExponential(2)} drift ${step.drift.toExponential(2)}`
  );
}

/**
 * The SFT policy and, with `carryOptimizer`, the SFT's Adam state saved beside it (the demo's SFT phase writes
 * it), read in one load of the checkpoint.
 */
async function loadWarmStart(paths: DemoPaths, carryOptimizer: boolean) {
  // The load keeps the saved moments as `policy.optimizerState` (what `loadCheckpoint` returns beside the policy).
  const policy = await loadPolicy(paths.checkpoints.sft);
  if (!carryOptimizer) return { policy, optimizerState: undefined };
  const { optimizerState } = policy;
  if (optimizerState === undefined) {
    policy.dispose();
    throw new InvalidStateError(`${paths.checkpoints.sft} has no optimizer state: rebuild the warm start`, {
      state: "no optimizer state",
    });
  }
  return { policy, optimizerState };
}

async function runOne(
  paths: DemoPaths,
  algorithm: SweepAlgorithm,
  learningRate: number,
  steps: number,
  data: { train: Sample[]; validation: Sample[]; test: Sample[] },
  before: number,
  options: WarmStartSweepOptions,
): Promise<SweepRow> {
  const log = options.log ?? (() => {});
  const { policy, optimizerState } = await loadWarmStart(paths, options.carryOptimizer === true);
  const label = `${algorithm} lr ${learningRate.toExponential(0)}`;
  const trace: SweepStep[] = [];
  const initial = languageModelWeights(policy);
  const initialNorm = norm(initial);
  let previous = initial;
  const trainer = new VeRLTrainer({
    policy,
    config: sweepConfig(
      algorithm,
      learningRate,
      steps,
      data.train.length,
      options.seed ?? DEFAULT_OPTIONS.seed,
      options.overrides,
    ),
    rewards: [VERIFIER_REWARD],
    // The demo's task is the travel agent's: the sweep trains inside its loop, as the demo's RL phase does.
    agent: TRAVEL_AGENT,
    agentOptions: AGENT_OPTIONS,
    ...(optimizerState ? { optimizerState } : {}),
    onStep: ({ step, metrics }) => {
      const extra = metrics.extra ?? {};
      const current = languageModelWeights(policy);
      const row: SweepStep = {
        step,
        learningRate: extra["actor/lr"] ?? Number.NaN,
        reward: metrics.reward ?? Number.NaN,
        referenceKl: extra["actor/reference_kl"] ?? Number.NaN,
        ppoKl: extra["actor/ppo_kl"] ?? Number.NaN,
        stepKl: extra["actor/step_kl"] ?? Number.NaN,
        updateMs: extra["timing/update_ms"] ?? Number.NaN,
        stepKlMs: extra["timing/step_kl_ms"] ?? Number.NaN,
        clipFraction: extra["actor/pg_clipfrac"] ?? Number.NaN,
        gradNorm: extra["actor/grad_norm"] ?? Number.NaN,
        entropy: extra["actor/entropy"] ?? Number.NaN,
        updateSize: distance(current, previous) / initialNorm,
        drift: distance(current, initial) / initialNorm,
      };
      previous = current;
      trace.push(row);
      if (step <= 5 || step % 5 === 0) log(formatStep(label, row));
    },
  });
  try {
    await trainer.train(data.train);
    const test = await evaluateGreedy(policy, data.test);
    const validation = await evaluateGreedy(policy, data.validation);
    const rewards = trace.map((row) => row.reward);
    return {
      algorithm,
      learningRate,
      steps: trace.length,
      before,
      after: test.accuracy,
      validationAfter: validation.accuracy,
      rewardStart: meanOf(rewards.slice(0, 5)),
      rewardEnd: meanOf(rewards.slice(-5)),
      trace,
    };
  } finally {
    trainer.dispose();
    policy.dispose();
  }
}

/**
 * Runs GRPO and PPO from the demo's SFT checkpoint at each learning rate, every other setting at the library's
 * default (only the demo's sizes are set: prompts per step, group size, answer length, steps), and returns the
 * held-out test accuracy before and after each run with per-step diagnostics. Deterministic from the seed.
 */
export async function runWarmStartSweep(options: WarmStartSweepOptions): Promise<SweepRow[]> {
  const log = options.log ?? (() => {});
  const paths = demoPaths(options.out);
  const seed = options.seed ?? DEFAULT_OPTIONS.seed;
  await ensureWarmStart(paths, seed, log, options.rotary === true);
  const data = {
    train: await readSamples(paths.datasets.train),
    validation: await readSamples(paths.datasets.validation),
    test: await readSamples(paths.datasets.test),
  };
  const warmStart = await loadPolicy(paths.checkpoints.sft);
  const before = (await evaluateGreedy(warmStart, data.test)).accuracy;
  warmStart.dispose();
  log(`warm start: held-out test accuracy ${formatPercent(before)} (${data.test.length} requests)`);
  const rows: SweepRow[] = [];
  for (const algorithm of options.algorithms ?? ["grpo", "ppo"]) {
    const steps =
      algorithm === "grpo"
        ? (options.grpoSteps ?? DEFAULT_OPTIONS.rlSteps)
        : (options.ppoSteps ?? DEFAULT_OPTIONS.ppoSteps);
    for (const learningRate of options.learningRates ?? [1e-4, 3e-4, 1e-3]) {
      const row = await runOne(paths, algorithm, learningRate, steps, data, before, options);
      log(
        `${algorithm} lr ${learningRate.toExponential(0)}: test ${formatPercent(row.before)} -> ${formatPercent(row.after)}, ` +
          `train reward ${row.rewardStart.toFixed(3)} -> ${row.rewardEnd.toFixed(3)}`,
      );
      rows.push(row);
    }
  }
  return rows;
}

/** The table of a sweep: one line per algorithm and learning rate, accuracies in percent. */
export function formatSweepTable(rows: ReadonlyArray<SweepRow>): string {
  const header =
    "algorithm  lr       steps  before   after    change   val after  train reward (first 5 -> last 5)";
  const lines = rows.map((row) => {
    const change = 100 * (row.after - row.before);
    return [
      row.algorithm.padEnd(9),
      row.learningRate.toExponential(0).padEnd(7),
      String(row.steps).padStart(5),
      formatPercent(row.before).padStart(7),
      formatPercent(row.after).padStart(7),
      `${change >= 0 ? "+" : ""}${change.toFixed(1)}`.padStart(7),
      formatPercent(row.validationAfter).padStart(10),
      `  ${row.rewardStart.toFixed(3)} -> ${row.rewardEnd.toFixed(3)}`,
    ].join("  ");
  });
  return [header, ...lines].join("\n");
}
