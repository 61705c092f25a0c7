import { z } from "zod";

/**
 * How the learning rate changes over training steps (see {@link learningRateAt}).
 *
 * - `constant`: `learningRate` at every step; `warmupSteps` is not used.
 * - `linear-warmup`: rises linearly over `warmupSteps` steps, then stays at `learningRate`.
 * - `cosine`: the same linear warm-up, then a half-cosine decay from `learningRate` to `minLearningRate` at the
 *   last step (`maxSteps`, or the total passed to {@link learningRateAt}).
 */
export const LearningRateSchedule = {
  CONSTANT: "constant",
  LINEAR_WARMUP: "linear-warmup",
  COSINE: "cosine",
} as const;

/** One of the {@link LearningRateSchedule} values. */
export type LearningRateSchedule = (typeof LearningRateSchedule)[keyof typeof LearningRateSchedule];

const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().nonnegative();
const positiveFinite = z.number().positive();

/**
 * The fields of {@link TrainConfig}, for subclasses that need a config of their own:
 * `z.strictObject({ ...trainConfigShape, klCoef: z.number() })`, or simply `TrainConfig.extend({ ... })`.
 */
export const trainConfigShape = {
  /** Passes over the dataset. @default 1 */
  epochs: positiveInt.default(1),
  /** Examples per optimiser step. @default 32 */
  batchSize: positiveInt.default(32),
  /** Peak learning rate. @default 1e-4 */
  learningRate: positiveFinite.default(1e-4),
  /** Steps of linear warm-up (schedules `linear-warmup` and `cosine`). @default 0 */
  warmupSteps: nonNegativeInt.default(0),
  /** Evaluate every this many steps during training; 0 evaluates only at the end. @default 0 */
  evalEvery: nonNegativeInt.default(0),
  /** Seed of every random choice the trainer makes; the same seed gives the same run. @default 0 */
  seed: z.number().int().default(0),
  /** Stop training after this many optimiser steps, whatever `epochs` says. @default undefined (no cap) */
  maxSteps: positiveInt.optional(),
  /** Clip the global gradient norm to this value. @default undefined (no clipping) */
  gradClip: positiveFinite.optional(),
  /** Shape of the learning rate over steps. @default "linear-warmup" */
  lrSchedule: z.enum(["constant", "linear-warmup", "cosine"]).default("linear-warmup"),
  /** Learning rate reached at the end of a `cosine` schedule. @default 0 */
  minLearningRate: z.number().nonnegative().default(0),
};

/**
 * Hyper-parameters shared by every trainer: epochs, batch size, learning rate and its schedule, evaluation
 * cadence, seed. Parse it with
 * `parseWith(TrainConfig, input, { what: "TrainConfig", path: "config" })`; unknown keys are rejected. It has no
 * refinements, so `TrainConfig.extend({ ... })` gives a subclass its own config with these fields.
 *
 * @example
 * ```ts
 * const config = TrainConfig.parse({ epochs: 10, batchSize: 32, learningRate: 1e-4, warmupSteps: 100, evalEvery: 500 });
 * ```
 */
export const TrainConfig = z.strictObject(trainConfigShape);

/** A parsed {@link TrainConfig}: every default filled in. */
export type TrainConfig = z.output<typeof TrainConfig>;
/** What constructors accept: a {@link TrainConfig} whose fields may be omitted. */
export type TrainConfigInput = z.input<typeof TrainConfig>;
