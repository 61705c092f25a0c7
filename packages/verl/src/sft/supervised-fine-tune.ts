import { AbortedError, InvalidArgumentError, parseWith } from "@orbiter/types";
import * as tf from "@tensorflow/tfjs";
import { z } from "zod";
import { seededStream } from "../internal/seeded-stream.js";
import type { Policy } from "../model/policy.js";
import { AdamOptimizer } from "../optim/adam-optimizer.js";
import { clipByGlobalNorm } from "../optim/clip-by-global-norm.js";

/** Metrics of one optimiser step of {@link supervisedFineTune}. */
export interface SftStepMetrics {
  /** 1-based step number across epochs. */
  step: number;
  /** 0-based epoch. */
  epoch: number;
  /** Mean cross-entropy (nats per output token) of the batch, before the update. */
  loss: number;
  /** Fraction of output tokens where the most likely token was the target, before the update. */
  tokenAccuracy: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** Output tokens in the batch (the loss is averaged over them). */
  tokens: number;
}

/** Metrics of one epoch of {@link supervisedFineTune}, token-weighted over its steps. */
export interface SftEpochMetrics {
  /** 0-based epoch. */
  epoch: number;
  /** Mean cross-entropy per output token. */
  loss: number;
  /** Fraction of output tokens predicted exactly (argmax). */
  tokenAccuracy: number;
}

/** What {@link supervisedFineTune} returns. */
export interface SftResult {
  /** Optimiser steps taken. */
  steps: number;
  /** Per-epoch metrics. */
  epochs: SftEpochMetrics[];
  /** Per-step metrics. */
  history: SftStepMetrics[];
  /** Loss of the last epoch. */
  loss: number;
  /** Token accuracy of the last epoch. */
  tokenAccuracy: number;
}

/** Options of {@link supervisedFineTune}. */
export const SftOptions = z.strictObject({
  /** Passes over the samples. @default 1 */
  epochs: z.number().int().min(1).default(1),
  /** Samples per optimiser step. @default 16 */
  batchSize: z.number().int().min(1).default(16),
  /** Adam learning rate (ignored when `optimizer` is given). @default 0.001 */
  learningRate: z.number().positive().finite().default(1e-3),
  /** Seed of the shuffling. @default 0 */
  seed: z.number().int().default(0),
  /** Shuffle the samples each epoch. @default true */
  shuffle: z.boolean().default(true),
  /** Global-norm gradient clipping threshold. @default 1 */
  maxGradNorm: z.number().positive().default(1),
  /** Called after every step with its metrics (may be async). */
  onStep: z
    .custom<(metrics: SftStepMetrics) => void | Promise<void>>((v) => typeof v === "function")
    .optional(),
  /** Stops training between steps (an AbortedError is thrown). */
  signal: z.custom<AbortSignal>((v) => v instanceof AbortSignal).optional(),
  /** Continue with this optimiser (and its moments) instead of a fresh Adam. */
  optimizer: z.custom<AdamOptimizer>((v) => v instanceof AdamOptimizer).optional(),
});

/** What {@link supervisedFineTune} accepts. */
export type SftOptionsInput = z.input<typeof SftOptions>;

/** A sequence to fine-tune on: token ids and a mask (aligned with them) of the tokens that are targets. */
export interface SftSequence {
  ids: number[];
  /** 1 on the tokens whose cross-entropy is trained (never the first token). */
  targetMask: number[];
}

function encodeSamples(
  policy: Policy,
  samples: ReadonlyArray<{ input: string; output: string }>,
): SftSequence[] {
  if (!Array.isArray(samples) || samples.length === 0) {
    throw new InvalidArgumentError("samples must be a non-empty array", { field: "samples" });
  }
  return samples.map((sample, index) => {
    if (sample === null || typeof sample !== "object" || typeof sample.input !== "string") {
      throw new InvalidArgumentError(`samples[${index}].input must be a string`, {
        field: `samples[${index}].input`,
      });
    }
    if (typeof sample.output !== "string") {
      throw new InvalidArgumentError(`samples[${index}].output must be a string`, {
        field: `samples[${index}].output`,
      });
    }
    const prompt = policy.encodePrompt(sample.input);
    const output = [...policy.tokenizer.encode(sample.output), policy.tokenizer.eosId];
    const ids = [...prompt, ...output];
    if (prompt.length === 0) {
      throw new InvalidArgumentError(`samples[${index}].input must encode to at least one token`, {
        field: `samples[${index}].input`,
      });
    }
    if (ids.length > policy.contextLength) {
      throw new InvalidArgumentError(
        `samples[${index}] has ${ids.length} tokens (prompt, output and EOS); the context length is ${policy.contextLength}`,
        { field: `samples[${index}]` },
      );
    }
    return { ids, targetMask: ids.map((_, t) => (t >= prompt.length ? 1 : 0)) };
  });
}

/**
 * Supervised fine-tuning (teacher forcing) of a policy on `input → output` samples: the cross-entropy of each
 * output token (and the EOS after it) given everything before it; prompt tokens are context only. Adam with
 * global-norm clipping; one device sync per step. This is the warm start RL needs.
 *
 * @example
 * ```ts
 * const result = await supervisedFineTune(policy, [{ input: "2+2=", output: "4" }], {
 *   epochs: 20, batchSize: 8, learningRate: 3e-3, seed: 1,
 *   onStep: (m) => console.log(m.step, m.loss.toFixed(3), m.tokenAccuracy),
 * });
 * ```
 */
export async function supervisedFineTune(
  policy: Policy,
  samples: ReadonlyArray<{ input: string; output: string }>,
  options: SftOptionsInput = {},
): Promise<SftResult> {
  const parsed = parseWith(SftOptions, options, { what: "supervisedFineTune options", path: "options" });
  if (policy.frozen) {
    throw new InvalidArgumentError("Cannot fine-tune a frozen policy", { field: "policy" });
  }
  return fineTuneSequences(policy, encodeSamples(policy, samples), parsed);
}

/**
 * The teacher-forcing loop of {@link supervisedFineTune} on already encoded sequences (each fits the context and
 * has at least one target): cross-entropy of the masked tokens, averaged over them, Adam with clipping.
 */
export async function fineTuneSequences(
  policy: Policy,
  encoded: ReadonlyArray<SftSequence>,
  parsed: z.output<typeof SftOptions>,
): Promise<SftResult> {
  const optimizer =
    parsed.optimizer ?? new AdamOptimizer(policy.parameters(), { learningRate: parsed.learningRate });
  const rng = seededStream(parsed.seed, "orbiter.verl.sft.shuffle");
  const order = encoded.map((_, i) => i);
  const history: SftStepMetrics[] = [];
  const epochs: SftEpochMetrics[] = [];
  const padId = policy.tokenizer.padId;
  let step = 0;
  try {
    for (let epoch = 0; epoch < parsed.epochs; epoch++) {
      if (parsed.shuffle) rng.shuffleInPlace(order);
      let epochLoss = 0;
      let epochCorrect = 0;
      let epochTokens = 0;
      for (let start = 0; start < order.length; start += parsed.batchSize) {
        if (parsed.signal?.aborted) throw new AbortedError("supervisedFineTune was aborted");
        const batch = order.slice(start, start + parsed.batchSize).map((i) => encoded[i]!);
        const length = Math.max(...batch.map((sample) => sample.ids.length));
        const tokens = new Int32Array(batch.length * length).fill(padId);
        const attention = new Float32Array(batch.length * length);
        // targets[b, j] scores tokens[b, j + 1]
        const lossMask = new Float32Array(batch.length * (length - 1));
        batch.forEach((sample, b) => {
          sample.ids.forEach((id, t) => {
            tokens[b * length + t] = id;
            attention[b * length + t] = 1;
            if (t > 0 && sample.targetMask[t] === 1) lossMask[b * (length - 1) + t - 1] = 1;
          });
        });
        const count = lossMask.reduce((sum, value) => sum + value, 0);
        const stats = tf.tidy(() => {
          const tokenTensor = tf.tensor2d(tokens, [batch.length, length], "int32");
          const maskTensor = tf.tensor2d(attention, [batch.length, length]);
          const weights = tf.tensor2d(lossMask, [batch.length, length - 1]);
          const targets = tf.slice(tokenTensor, [0, 1], [batch.length, length - 1]);
          let correct: tf.Tensor | undefined;
          const { value, grads } = tf.variableGrads(() => {
            const { logits } = policy.forward({ tokens: tokenTensor, attentionMask: maskTensor });
            const vocab = logits.shape[2];
            const scored = tf.slice(logits, [0, 0, 0], [batch.length, length - 1, vocab]);
            const logProbs = tf.logSoftmax(scored);
            const oneHot = tf.cast(tf.oneHot(targets as tf.Tensor2D, vocab), "float32");
            const tokenLogProbs = tf.sum(tf.mul(logProbs, oneHot), 2);
            const hits = tf.cast(tf.equal(tf.argMax(scored, 2), targets), "float32");
            // Kept: variableGrads disposes everything made inside this function except its result.
            correct = tf.keep(tf.sum(tf.mul(hits, weights)));
            return tf.div(tf.neg(tf.sum(tf.mul(tokenLogProbs, weights))), count) as tf.Scalar;
          }, policy.trainableVariables());
          const { gradients, norm } = clipByGlobalNorm(grads, parsed.maxGradNorm);
          optimizer.applyGradients(gradients);
          const summary = tf.stack([value, correct!]);
          correct!.dispose();
          return { summary, norm: tf.scalar(norm) };
        });
        const [lossValue, correctValue] = stats.summary.dataSync() as Float32Array;
        const gradNorm = stats.norm.dataSync()[0]!;
        stats.summary.dispose();
        stats.norm.dispose();
        step += 1;
        const metrics: SftStepMetrics = {
          step,
          epoch,
          loss: lossValue!,
          tokenAccuracy: correctValue! / count,
          gradNorm,
          tokens: count,
        };
        history.push(metrics);
        epochLoss += lossValue! * count;
        epochCorrect += correctValue!;
        epochTokens += count;
        await parsed.onStep?.(metrics);
      }
      epochs.push({ epoch, loss: epochLoss / epochTokens, tokenAccuracy: epochCorrect / epochTokens });
    }
  } finally {
    if (parsed.optimizer === undefined) optimizer.dispose();
  }
  const last = epochs[epochs.length - 1]!;
  return { steps: step, epochs, history, loss: last.loss, tokenAccuracy: last.tokenAccuracy };
}
