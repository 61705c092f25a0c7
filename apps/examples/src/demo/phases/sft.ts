import { rm } from "node:fs/promises";
import { MetricsLogger } from "@orbiter/trainer-core";
import { supervisedFineTune } from "@orbiter/verl";
import { type DemoContext, elapsedSince, formatPercent } from "../demo-context.js";
import type { SftPhaseResult } from "../demo-results.js";
import { evaluateGreedy } from "../evaluation.js";
import { createPolicy } from "../policy-factory.js";
import { requireResult, saveResult } from "../result-files.js";
import { readSamples } from "../sample-files.js";

/**
 * Phase 3: supervised fine-tuning warms up the default transformer policy on the verified training split (the
 * agent's good trajectories and the synthesised requests), for a few epochs only: the warm start answers part of
 * the held-out requests, and RL has room to improve it. Writes the `sft` checkpoint and metrics log.
 */
export async function runSft(context: DemoContext): Promise<SftPhaseResult> {
  const started = performance.now();
  const { options, paths } = context;
  await requireResult(paths, "synthesis", "sft");
  const train = await readSamples(paths.datasets.train);
  const validation = await readSamples(paths.datasets.validation);
  const test = await readSamples(paths.datasets.test);
  // Every training sample passed the verifier: the agent's good trajectories and the synthesised requests.
  const samples = train;
  const fromAgent = train.filter((sample) => sample.metadata.origin === "agent").length;
  const policy = createPolicy(options);
  try {
    const untrained = await evaluateGreedy(policy, test);
    await rm(paths.metrics.sft, { force: true });
    const log = new MetricsLogger({ path: paths.metrics.sft });
    const batchSize = 16;
    const progress = context.progress("sft");
    progress.start(options.sftEpochs * Math.ceil(samples.length / batchSize));
    let sft: Awaited<ReturnType<typeof supervisedFineTune>>;
    try {
      sft = await supervisedFineTune(policy, samples, {
        epochs: options.sftEpochs,
        batchSize,
        learningRate: options.sftLearningRate,
        seed: options.seed,
        onStep: async (step) => {
          progress.update(step.step, {
            epoch: step.epoch,
            loss: step.loss,
            tokenAccuracy: step.tokenAccuracy,
          });
          await log.logStep(
            step.step,
            { loss: step.loss, accuracy: step.tokenAccuracy },
            { epoch: step.epoch },
          );
        },
      });
    } finally {
      progress.stop();
      await log.close();
    }
    const testEvaluation = await evaluateGreedy(policy, test);
    const validationEvaluation = await evaluateGreedy(policy, validation);
    await rm(paths.checkpoints.sft, { recursive: true, force: true });
    await policy.save(paths.checkpoints.sft);
    const result: SftPhaseResult = {
      phase: "sft",
      backend: context.backend,
      durationMs: elapsedSince(started),
      samples: samples.length,
      fromAgent,
      epochs: options.sftEpochs,
      steps: sft.steps,
      loss: sft.loss,
      tokenAccuracy: sft.tokenAccuracy,
      parameters: policy.parameterCount,
      untrained,
      test: testEvaluation,
      validation: validationEvaluation,
    };
    context.log(
      `sft: ${policy.parameterCount.toLocaleString("en-US")}-parameter transformer, ${sft.steps} steps on ${samples.length} verified samples ` +
        `(${fromAgent} of them the agent's good trajectories, loss ${sft.loss.toFixed(3)}); ` +
        `held-out test accuracy ${formatPercent(untrained.accuracy)} -> ${formatPercent(testEvaluation.accuracy)}`,
    );
    await saveResult(paths, result);
    return result;
  } finally {
    policy.dispose();
  }
}
