import { rm } from "node:fs/promises";
import { MetricsLogger } from "@orbiter/trainer-core";
import { TrajectoryDataset } from "@orbiter/trajectory";
import type { ChatMessage } from "@orbiter/types";
import { AdamOptimizer, type Conversation, saveCheckpoint, supervisedFineTuneEpisodes } from "@orbiter/verl";
import { type DemoContext, elapsedSince, formatPercent } from "../demo-context.js";
import type { SftPhaseResult } from "../demo-results.js";
import { evaluateGreedy } from "../evaluation.js";
import { createPolicy } from "../policy-factory.js";
import { requireResult, saveResult } from "../result-files.js";
import { readSamples } from "../sample-files.js";
import { referenceConversation, TRAVEL_TOOLS } from "../travel-world.js";

/**
 * Phase 3: supervised fine-tuning warms up the default transformer policy on multi-turn episodes of the verified
 * training split (the teacher's right episodes as recorded, and the synthesised requests done right), on the
 * assistant tokens only (tool calls and answers), for a few epochs only: the warm start answers part of
 * the held-out requests, and RL has room to improve it. Writes the `sft` checkpoint and metrics log.
 */
export async function runSft(context: DemoContext): Promise<SftPhaseResult> {
  const started = performance.now();
  const { options, paths } = context;
  await requireResult(paths, "synthesis", "sft");
  const train = await readSamples(paths.datasets.train);
  const validation = await readSamples(paths.datasets.validation);
  const test = await readSamples(paths.datasets.test);
  // Every training request passed the verifier. The agent's episodes among them are trained on as the gateway
  // recorded them (the teacher's right conversations); synthesised requests get the conversation done right.
  const captured = await TrajectoryDataset.fromJsonl(paths.datasets.jsonl);
  const recorded = new Map<string, ChatMessage[]>();
  for (const item of captured.items) {
    if (item.status === "success" && item.messages !== undefined) recorded.set(item.id, item.messages);
  }
  const samples: Conversation[] = train.flatMap((sample) => {
    const messages = recorded.get(sample.id) ?? referenceConversation(sample.input);
    return messages === undefined ? [] : [{ messages, tools: TRAVEL_TOOLS }];
  });
  const fromAgent = train.filter((sample) => recorded.has(sample.id)).length;
  const policy = createPolicy(options);
  // Kept (not the SFT's own fresh one) so that its moments are saved beside the weights for RL to continue from.
  const optimizer = new AdamOptimizer(policy.parameters(), { learningRate: options.sftLearningRate });
  try {
    const untrained = await evaluateGreedy(policy, test);
    await rm(paths.metrics.sft, { force: true });
    const log = new MetricsLogger({ path: paths.metrics.sft });
    const batchSize = 16;
    const progress = context.progress("sft");
    progress.start(options.sftEpochs * Math.ceil(samples.length / batchSize));
    let sft: Awaited<ReturnType<typeof supervisedFineTuneEpisodes>>;
    try {
      sft = await supervisedFineTuneEpisodes(policy, samples, {
        epochs: options.sftEpochs,
        batchSize,
        learningRate: options.sftLearningRate,
        optimizer,
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
    await saveCheckpoint(paths.checkpoints.sft, { policy, optimizer });
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
      `sft: ${policy.parameterCount.toLocaleString("en-US")}-parameter transformer, ${sft.steps} steps on ${samples.length} verified episodes ` +
        `(${fromAgent} of them the teacher's recorded episodes, loss ${sft.loss.toFixed(3)}); ` +
        `held-out task success ${formatPercent(untrained.accuracy)} -> ${formatPercent(testEvaluation.accuracy)}`,
    );
    await saveResult(paths, result);
    return result;
  } finally {
    optimizer.dispose();
    policy.dispose();
  }
}
