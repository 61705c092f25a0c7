import { rm } from "node:fs/promises";
import { deriveSeed, type Sample } from "@orbiter/types";
import { type DemoContext, elapsedSince, formatPercent } from "../demo-context.js";
import type { Evaluation, RlPhaseResult, RlRun, RlSettings } from "../demo-results.js";
import { evaluateGreedy } from "../evaluation.js";
import { chooseFinal } from "../final-checkpoint.js";
import { loadPolicy } from "../policy-factory.js";
import { loadResult, requireResult, saveResult } from "../result-files.js";
import { defaultRlSettings, ppoRecipe, trainWithRl } from "../rl-training.js";
import { readSamples } from "../sample-files.js";

interface RunInput {
  algorithm: "grpo" | "ppo";
  steps: number;
  /** The tuned settings, or undefined for the defaults of the warm start's positional scheme. */
  settings: RlSettings | undefined;
  train: Sample[];
  validation: Sample[];
  test: Sample[];
}

async function runOne(context: DemoContext, input: RunInput): Promise<RlRun> {
  const { options, paths } = context;
  const started = performance.now();
  const policy = await loadPolicy(paths.checkpoints.sft);
  const rotary = policy.config.rotary;
  const settings = input.settings ?? defaultRlSettings(rotary);
  try {
    const metricsLogPath = paths.metrics[input.algorithm];
    await rm(metricsLogPath, { force: true });
    const progress = context.progress(input.algorithm);
    let output: Awaited<ReturnType<typeof trainWithRl>>;
    try {
      output = await trainWithRl({
        algorithm: input.algorithm,
        policy,
        samples: input.train,
        settings,
        steps: input.steps,
        batchSize: options.rlBatchSize,
        groupSize: options.groupSize,
        seed: deriveSeed(options.seed, input.algorithm),
        ppo: ppoRecipe(rotary),
        metricsLogPath,
        callbacks: [progress],
      });
    } finally {
      progress.stop();
    }
    const test = await evaluateGreedy(policy, input.test);
    const validation = await evaluateGreedy(policy, input.validation);
    const checkpoint = paths.checkpoints[input.algorithm];
    await rm(checkpoint, { recursive: true, force: true });
    await policy.save(checkpoint);
    return {
      algorithm: input.algorithm,
      steps: output.steps,
      settings,
      batchSize: output.batchSize,
      groupSize: output.groupSize,
      durationMs: elapsedSince(started),
      meanStepMs: output.meanStepMs,
      test,
      validation,
    };
  } finally {
    policy.dispose();
  }
}

function describe(run: RlRun, before: Evaluation): string {
  return (
    `${run.algorithm}: ${run.steps} steps, held-out test accuracy ${formatPercent(before.accuracy)} -> ` +
    `${formatPercent(run.test.accuracy)}, mean reward ${before.reward.toFixed(3)} -> ${run.test.reward.toFixed(3)}`
  );
}

/**
 * Phase 5: GRPO, then PPO, each from the SFT warm start with the settings the evolution phase chose, rewarded by
 * the verifier on the training prompts; both are evaluated on the held-out test split. The final checkpoint is
 * chosen on the validation split ({@link chooseFinal}).
 */
export async function runRl(context: DemoContext): Promise<RlPhaseResult> {
  const started = performance.now();
  const { options, paths } = context;
  const sft = await requireResult(paths, "sft", "rl");
  const evolution = await loadResult(paths, "evolution");
  // Without an evolution result each run takes the defaults of the warm start it loads (runOne).
  const settings = evolution?.best;
  if (evolution === undefined) {
    context.log("rl: no evolution result in the output folder; using the default RL settings");
  }
  const train = await readSamples(paths.datasets.train);
  const validation = await readSamples(paths.datasets.validation);
  const test = await readSamples(paths.datasets.test);
  const common = { settings, train, validation, test };
  const beforeValidation = sft.validation;
  const grpo = await runOne(context, { algorithm: "grpo", steps: options.rlSteps, ...common });
  context.log(describe(grpo, sft.test));
  let ppo: RlRun | undefined;
  if (options.ppoSteps > 0) {
    ppo = await runOne(context, { algorithm: "ppo", steps: options.ppoSteps, ...common });
    context.log(describe(ppo, sft.test));
  } else {
    await rm(paths.metrics.ppo, { force: true });
  }
  const final = chooseFinal(beforeValidation, grpo, ppo);
  const policy = await loadPolicy(paths.checkpoints[final]);
  try {
    await rm(paths.checkpoints.final, { recursive: true, force: true });
    await policy.save(paths.checkpoints.final);
  } finally {
    policy.dispose();
  }
  const result: RlPhaseResult = {
    phase: "rl",
    backend: context.backend,
    durationMs: elapsedSince(started),
    settingsSource: evolution === undefined ? "defaults" : "evolution",
    before: sft.test,
    beforeValidation,
    grpo,
    ppo,
    final,
  };
  await saveResult(paths, result);
  return result;
}
