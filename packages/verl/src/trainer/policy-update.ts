import { deriveSeed, SeededRandom } from "@orbiter/types";
import * as tf from "@tensorflow/tfjs";
import type { VeRLConfig } from "../config/verl-config.js";
import type { Policy } from "../model/policy.js";
import { clipScale, globalNorm } from "../optim/global-norm.js";
import { criticVariables } from "./critic-warm-up.js";
import {
  accumulateGradients,
  disposeGradients,
  type GradientSum,
  sumMicroBatchGradients,
} from "./gradient-accumulation.js";
import {
  explainedVarianceFromSums,
  METRIC_NAMES,
  METRIC_VECTOR_LENGTH,
  type MicroBatchTensors,
  type MicroBatchWeights,
  microBatchWeights,
  WEIGHTED_METRIC_COUNT,
} from "./micro-batch-loss.js";
import type { RolloutBatch } from "./rollout-batch.js";
import { backtrackShare, StepAnchor } from "./step-backtrack.js";
import { measureStepKl } from "./step-kl.js";

/** Applies clipped gradients to the policy's variables: an `AdamOptimizer` in practice. */
export interface GradientApplier {
  /** Learning rate of the next update (set before each step, for schedules). */
  learningRate: number;
  /** Updates every variable named in `gradients` (tfjs variable names); the gradients are not disposed. */
  applyGradients(gradients: Readonly<Record<string, tf.Tensor>>): void;
}

/**
 * What a participant needs besides its rows to compute gradients: the config, the KL coefficient β, and whether
 * the step is critic-only (gradients of the value head alone; the policy's parameters get none).
 */
export interface GradientSettings {
  /** The parsed trainer config. */
  config: VeRLConfig;
  /** Current KL coefficient β. */
  klCoef: number;
  /** Differentiate with respect to the critic's parameters only (critic warm-up). @default false */
  criticOnly?: boolean;
}

/** One micro-batch handed to a participant of a data-parallel update: its rows and loss weights. */
export interface MicroBatchPlan {
  /** Row indices into the rollout batch. */
  rows: number[];
  /** Weights inside the mini-batch. */
  weights: MicroBatchWeights;
}

/**
 * Other threads that compute gradients of parts of each mini-batch on replicas of the policy (see
 * `DataParallelGroup`). This thread is participant 0; the others return their summed gradients as tensors made
 * here, in participant order.
 */
export interface GradientWorkers {
  /** Participants, this thread included. */
  readonly size: number;
  /** Hands the rollout batch to the other participants (once per update, before any `gradients`). */
  loadBatch(batch: RolloutBatch): Promise<void>;
  /**
   * Computes the gradient sums of `parts[p]` on participant `p ≥ 1` (after copying the policy's current
   * weights to them when `syncWeights`), while the caller computes `parts[0]`; resolves to the sums of
   * participants 1.. in order (the caller owns the tensors).
   */
  gradients(
    parts: MicroBatchPlan[][],
    settings: GradientSettings,
    syncWeights: boolean,
  ): Promise<GradientSum[]>;
}

/** Inputs of {@link runPolicyUpdate}. */
export interface PolicyUpdateInput {
  /** The parsed trainer config. */
  config: VeRLConfig;
  /** The policy being trained. */
  policy: Policy;
  /** The rollout to learn from. */
  batch: RolloutBatch;
  /** Current KL coefficient β. */
  klCoef: number;
  /** Learning rate of this step. */
  learningRate: number;
  /** The optimiser. */
  optimizer: GradientApplier;
  /** Seed of the mini-batch shuffling of this step. */
  seed: number;
  /** Split each mini-batch across these workers (data-parallel). @default this thread alone */
  workers?: GradientWorkers;
  /**
   * A critic warm-up step: only the value head is differentiated and updated, on every participant; the policy's
   * parameters and their Adam moments are left exactly as they were. Ignored without a critic in the batch.
   * @default false
   */
  criticOnly?: boolean;
}

const EXPLAINED = METRIC_NAMES.indexOf("critic/vf_explained_var");
const GRAD_NORM = METRIC_NAMES.indexOf("actor/grad_norm");
const APPROX_KL = METRIC_NAMES.indexOf("actor/approx_kl");

/**
 * SB3's `target_kl` stop: the remaining updates of a step are dropped once its KL, `actor/approx_kl` (k3, never
 * negative), passes this × `desiredKl`.
 */
export const KL_STOP_FACTOR = 1.5;

/** Result of {@link runPolicyUpdate}: metrics averaged over the applied mini-batch updates. */
export interface PolicyUpdateResult {
  /** verl-named metrics (`actor/pg_loss`, `actor/grad_norm`, `critic/vf_loss`, ...). */
  metrics: Record<string, number>;
  /** Mean total loss of the applied updates (NaN when every update was skipped). */
  loss: number;
  /** Mini-batch updates applied. */
  applied: number;
  /** Mini-batch updates skipped because the loss or the gradient was not finite. */
  skipped: number;
}

/**
 * The micro-batches of a mini-batch for each of `participants`: the rows are cut into `participants` contiguous
 * parts of near-equal size, and each part into micro-batches of at most `microBatchSize` rows.
 */
export function planMicroBatches(
  mini: ReadonlyArray<number>,
  participants: number,
  microBatchSize: number,
  weigh: (micro: number[]) => MicroBatchWeights,
): MicroBatchPlan[][] {
  return Array.from({ length: participants }, (_, p) => {
    const part = mini.slice(
      Math.floor((p * mini.length) / participants),
      Math.floor(((p + 1) * mini.length) / participants),
    );
    const plans: MicroBatchPlan[] = [];
    for (let start = 0; start < part.length; start += microBatchSize) {
      const rows = part.slice(start, start + microBatchSize);
      plans.push({ rows, weights: weigh(rows) });
    }
    return plans;
  });
}

/** The rows `rows` of a rollout batch (all of it for null), gathered outside any gradient tape. */
export function gatherRows(batch: RolloutBatch, rows: number[] | null): MicroBatchTensors {
  const all: MicroBatchTensors = {
    tokens: batch.tokens,
    attentionMask: batch.attentionMask,
    responseMask: batch.responseMask,
    oldLogProbs: batch.oldLogProbs,
    advantages: batch.advantages,
    refLogProbs: batch.refLogProbs,
    returns: batch.returns,
    oldValues: batch.oldValues,
  };
  if (rows === null) return all;
  return tf.tidy(() => {
    const index = tf.tensor1d(rows, "int32");
    const pick = <T extends tf.Tensor | null>(tensor: T): T =>
      (tensor === null ? null : tf.gather(tensor, index)) as T;
    const out = {
      tokens: pick(all.tokens),
      attentionMask: pick(all.attentionMask),
      responseMask: pick(all.responseMask),
      oldLogProbs: pick(all.oldLogProbs),
      advantages: pick(all.advantages),
      refLogProbs: pick(all.refLogProbs),
      returns: pick(all.returns),
      oldValues: pick(all.oldValues),
    };
    return out as unknown as tf.TensorContainer;
  }) as unknown as MicroBatchTensors;
}

/** Frees what {@link gatherRows} gathered (nothing when it returned the batch itself). */
function releaseRows(batch: RolloutBatch, rows: MicroBatchTensors): void {
  if (rows.tokens === batch.tokens) return;
  tf.dispose(Object.values(rows).filter((tensor): tensor is tf.Tensor => tensor !== null));
}

/**
 * The gradient sum of this thread's micro-batches (in order). `whole` marks the case of one micro-batch that is
 * the entire batch, which is used without gathering.
 */
export function localGradients(
  policy: Policy,
  batch: RolloutBatch,
  plans: ReadonlyArray<MicroBatchPlan>,
  settings: GradientSettings,
): GradientSum | null {
  return sumMicroBatchGradients(
    policy,
    plans,
    { ...settings, responseStart: batch.responseStart },
    (plan) => {
      const whole = plan.rows.length === batch.size && plan.rows.every((row, i) => row === i);
      return gatherRows(batch, whole ? null : plan.rows);
    },
    (rows) => releaseRows(batch, rows),
  );
}

/**
 * The policy (and critic) update of one training step: `ppoEpochs` passes over the rollout, each split into
 * shuffled mini-batches of `miniBatchSize` responses, one optimiser step per mini-batch; a mini-batch larger than
 * `microBatchSize` is processed in micro-batches whose weighted gradients are summed, and with `workers` its rows
 * are split across threads (data-parallel) whose gradient sums are added in a fixed order. The loss is the
 * clipped surrogate, plus β·KL to the reference when `klPlacement` is `loss`, minus the entropy bonus, plus
 * `vfCoef` times the clipped value loss for PPO, all aggregated with `lossAggregation`. Gradients are clipped to
 * `gradClip` by global norm and applied once, here; a mini-batch whose loss or gradient is not finite is skipped
 * (and counted), so the weights never become NaN. One device→host read per mini-batch.
 */
export async function runPolicyUpdate(input: PolicyUpdateInput): Promise<PolicyUpdateResult> {
  const criticOnly = isCriticOnly(input);
  // With `desiredKl`, the weights before the step, to take back the part of a step that overshoots the region.
  const anchor = input.config.desiredKl !== null && !criticOnly ? new StepAnchor(input.policy) : null;
  try {
    return await runUpdates(input, criticOnly, anchor);
  } finally {
    anchor?.dispose();
  }
}

/** Whether an update trains the critic alone: asked for, and the batch and the policy have a critic. */
function isCriticOnly(input: PolicyUpdateInput): boolean {
  const { batch } = input;
  const useCritic = batch.returns !== null && batch.oldValues !== null;
  return input.criticOnly === true && useCritic && criticVariables(input.policy).length > 0;
}

/**
 * The body of {@link runPolicyUpdate}, given whether it trains the critic alone ({@link isCriticOnly}) and the
 * trust region's anchor (null without `desiredKl` or when critic-only).
 */
async function runUpdates(
  input: PolicyUpdateInput,
  criticOnly: boolean,
  anchor: StepAnchor | null,
): Promise<PolicyUpdateResult> {
  const { config, policy, batch, klCoef, learningRate, optimizer, workers } = input;
  const participants = workers?.size ?? 1;
  const useCritic = batch.returns !== null && batch.oldValues !== null;
  const settings: GradientSettings = { config, klCoef, criticOnly };
  const miniBatches = batch.size / config.miniBatchSize;
  const microBatchSize = Math.min(config.microBatchSize, Math.ceil(config.miniBatchSize / participants));
  const rng = new SeededRandom(deriveSeed(input.seed, "mini-batches"));
  const sums = new Float64Array(METRIC_NAMES.length);
  let applied = 0;
  let skipped = 0;
  if (workers !== undefined && participants > 1) await workers.loadBatch(batch);
  // Whether the workers' replicas lag behind this policy (always at the start: it changed since last time).
  let stale = true;
  // With `desiredKl` (so with an anchor), the step's updates stop once the policy has moved past 1.5 × the target
  // (SB3's target_kl), by k3: the signed k1 of `actor/ppo_kl` can sit at 0 or below while the policy moves.
  const klStop = anchor !== null ? KL_STOP_FACTOR * (config.desiredKl as number) : null;
  let stopped = 0;

  updates: for (let epoch = 0; epoch < config.ppoEpochs; epoch++) {
    const order = miniBatches > 1 ? rng.shuffle(Array.from({ length: batch.size }, (_, i) => i)) : null;
    for (let m = 0; m < miniBatches; m++) {
      const mini = order
        ? order.slice(m * config.miniBatchSize, (m + 1) * config.miniBatchSize)
        : Array.from({ length: batch.size }, (_, i) => i);
      const plans = planMicroBatches(mini, participants, microBatchSize, (micro) =>
        microBatchWeights(batch.rowTokens, micro, mini, config.lossAggregation),
      );
      const remote =
        workers !== undefined && participants > 1
          ? workers.gradients(plans, settings, stale)
          : Promise.resolve([]);
      stale = false;
      // Awaited below, after this thread's share; handled now so that a failure meanwhile is not "unhandled".
      remote.catch(() => undefined);
      // Participant 0's share runs here while the workers compute theirs.
      let sum: GradientSum | null = null;
      try {
        sum = localGradients(policy, batch, plans[0] ?? [], settings);
      } catch (error) {
        await remote.then(
          (parts) => parts.forEach(disposeGradients),
          () => undefined,
        );
        throw error;
      }
      let others: GradientSum[];
      try {
        others = await remote;
      } catch (error) {
        disposeGradients(sum);
        throw error;
      }
      for (const part of others) sum = accumulateGradients(sum, part);
      if (sum === null) continue;
      const gradientList = Object.values(sum.grads);
      const summed = sum.metrics;
      const readback = tf.tidy(() => tf.concat([summed, tf.reshape(globalNorm(gradientList), [1])]));
      const host = readback.dataSync();
      tf.dispose([readback, summed]);
      const gradientNorm = host[METRIC_VECTOR_LENGTH] as number;
      const finite = Array.from(host).every((x) => Number.isFinite(x));
      // The step's first update sees the policy the rollout came from: its KL is sampler-versus-trainer
      // rounding, not movement, so it is never stopped (else a step could apply nothing and measure nothing).
      const moved = epoch > 0 || m > 0;
      if (finite && moved && klStop !== null && (host[APPROX_KL] as number) > klStop) {
        // This mini-batch's forward pass saw the policy already past the trust region: no more updates this step.
        tf.dispose(gradientList);
        stopped = config.ppoEpochs * miniBatches - (epoch * miniBatches + m);
        break updates;
      }
      if (finite) {
        const scale = clipScale(gradientNorm, config.gradClip);
        const clipped: tf.NamedTensorMap = {};
        for (const [name, gradient] of Object.entries(sum.grads)) {
          clipped[name] = scale < 1 ? tf.mul(gradient, scale) : gradient;
        }
        optimizer.learningRate = learningRate;
        optimizer.applyGradients(clipped);
        if (scale < 1) tf.dispose(Object.values(clipped));
        for (let i = 0; i < WEIGHTED_METRIC_COUNT; i++) sums[i] = (sums[i] as number) + (host[i] as number);
        sums[EXPLAINED] =
          (sums[EXPLAINED] as number) + explainedVarianceFromSums(host, WEIGHTED_METRIC_COUNT);
        sums[GRAD_NORM] = (sums[GRAD_NORM] as number) + gradientNorm;
        applied++;
        stale = true;
      } else {
        skipped++;
      }
      tf.dispose(gradientList);
    }
  }
  const metrics: Record<string, number> = {};
  METRIC_NAMES.forEach((name, i) => {
    if (name !== "loss") metrics[name] = applied > 0 ? (sums[i] as number) / applied : Number.NaN;
  });
  if (useCritic) {
    // Which steps trained the critic alone (verl's trainer.critic_warmup).
    metrics["critic/warmup"] = criticOnly ? 1 : 0;
  } else {
    delete metrics["critic/vf_loss"];
    delete metrics["critic/vf_clipfrac"];
    delete metrics["critic/vf_explained_var"];
  }
  if (batch.refLogProbs === null) delete metrics["actor/kl_loss"];
  if (klStop !== null) metrics["actor/kl_stopped_updates"] = stopped;
  if (anchor !== null && applied > 0) {
    // The trust region: how far this step's updates moved the policy, and what overshot 2 × the target taken back.
    const started = performance.now();
    const stepKl = measureStepKl(policy, batch, config.temperature, config.microBatchSize);
    const share = backtrackShare(stepKl, 2 * (config.desiredKl as number));
    if (share < 1) anchor.shrink(share);
    metrics["actor/step_kl"] = stepKl;
    metrics["actor/step_kept"] = share;
    metrics["timing/step_kl_ms"] = performance.now() - started;
  }
  return { metrics, loss: applied > 0 ? (sums[0] as number) / applied : Number.NaN, applied, skipped };
}
