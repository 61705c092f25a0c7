import { deriveSeed, type Sample } from "@orbiter/types";
import type { AgentStepResult } from "../agent/agent-runner.js";
import type { BackendName } from "../backend/init-backend.js";
import type { VeRLConfig } from "../config/verl-config.js";
import type { Policy } from "../model/policy.js";
import type { AdamOptimizer } from "../optim/adam-optimizer.js";
import type { TrainerWorkers } from "../parallel/trainer-workers.js";
import { rewardMetrics } from "../rewards/reward-metrics.js";
import { shapeRewards, zeroStdFraction } from "../rewards/reward-shaping.js";
import type { RewardSpec } from "../rewards/reward-spec.js";
import { scoreRewards } from "../rewards/score-rewards.js";
import { criticWarmupStepsOf } from "./critic-warm-up.js";
import { mean } from "./host-means.js";
import { type PolicyUpdateResult, runPolicyUpdate } from "./policy-update.js";
import { encodePromptsForRollout } from "./prompt-encoding.js";
import { buildRolloutBatch } from "./rollout-batch.js";

/** Inputs of one training step on generated responses. */
export interface RolloutStepInput {
  config: VeRLConfig;
  policy: Policy;
  reference: Policy | null;
  optimizer: AdamOptimizer;
  rewards: ReadonlyArray<RewardSpec>;
  /** The worker threads sharing the step (none started when `config.workers` resolves to 1). */
  workers: TrainerWorkers;
  backend: BackendName | undefined;
  /** The batch's prompts (`config.batchSize` samples). */
  prompts: ReadonlyArray<Sample>;
  step: number;
  klCoef: number;
  learningRate: number;
}

/** What one training step returns: agent mode's step result, the same loss, reward, metrics and KL figures. */
export type TrainStepResult = AgentStepResult;

/**
 * One training step on responses the policy generates: rollout (`groupSize` responses per prompt) → rewards →
 * reward shaping → advantages → `ppoEpochs` × mini-batch updates, on the worker threads when there are any.
 */
export async function runRolloutStep(input: RolloutStepInput): Promise<TrainStepResult> {
  const { config, policy, reference, prompts, step, klCoef, learningRate } = input;
  const started = performance.now();
  const group = await input.workers.ensure(config, policy, reference, input.backend ?? "cpu");
  const generation = await (group ?? policy).generate(
    encodePromptsForRollout(policy, prompts, config.maxNewTokens),
    {
      maxNewTokens: config.maxNewTokens,
      n: config.groupSize,
      temperature: config.temperature,
      topK: config.topK,
      topP: config.topP,
      seed: deriveSeed(config.seed, "rollout", step),
      withValues: config.advantageEstimator === "gae" && policy.hasValueHead,
    },
  );
  const rolledOut = performance.now();
  const responses = generation.texts.map((output, row) => ({
    output,
    sample: prompts[generation.promptIndex[row] as number] as Sample,
  }));
  const scores = await scoreRewards(input.rewards, responses, { onRewardError: config.onRewardError });
  const scored = performance.now();
  const lengths = generation.responses.map((response) => response.length);
  const shaped = shapeRewards(scores, lengths, config);
  const referenceLogProbs =
    group !== null && reference !== null
      ? await group.referenceLogProbs(generation, config.temperature)
      : undefined;
  const { batch, stats } = buildRolloutBatch({
    ...(referenceLogProbs === undefined ? {} : { referenceLogProbs }),
    config,
    policy,
    reference,
    generation,
    scores: shaped.scores,
    scoresAreAdvantages: shaped.scoresAreAdvantages,
    klCoef,
    ...(config.maskTruncated ? { excludedRows: generation.finished.map((done) => !done) } : {}),
  });
  let update: PolicyUpdateResult;
  try {
    if (shaped.scores.every((score) => score === null)) {
      // Every response abstained or was filtered out: nothing to learn from this rollout.
      update = { metrics: {}, loss: Number.NaN, applied: 0, skipped: 0 };
    } else {
      update = await runPolicyUpdate({
        config,
        policy,
        batch,
        klCoef,
        learningRate,
        optimizer: input.optimizer,
        seed: deriveSeed(config.seed, "update", step),
        criticOnly: step < criticWarmupStepsOf(config),
        ...(group === null ? {} : { workers: group }),
      });
    }
  } finally {
    batch.dispose();
  }
  const finished = performance.now();
  const metrics: Record<string, number> = {
    ...rewardMetrics(scores),
    ...stats.metrics,
    ...update.metrics,
    "actor/lr": learningRate,
    "actor/kl_coef": klCoef,
    "actor/reference_kl": stats.meanKl,
    "actor/skipped_updates": update.skipped,
    frac_reward_zero_std: zeroStdFraction(scores.totals, config.groupSize),
    "response_length/mean": mean(lengths),
    "response_length/max": Math.max(...lengths),
    "response_length/clip_ratio": generation.finished.filter((done) => !done).length / generation.batchSize,
    "timing/rollout_ms": rolledOut - started,
    "timing/reward_ms": scored - rolledOut,
    "timing/update_ms": finished - scored,
    "timing/step_ms": finished - started,
    "perf/workers": input.workers.count,
    "timing/worker_startup_ms": input.workers.startupMs,
  };
  if (shaped.meanOverlongPenalty !== undefined)
    metrics["reward/overlong_penalty/mean"] = shaped.meanOverlongPenalty;
  return {
    loss: update.loss,
    reward: metrics["reward/mean"] as number,
    metrics,
    meanKl: stats.meanKl,
    rows: generation.batchSize,
    skipped: update.skipped,
  };
}
