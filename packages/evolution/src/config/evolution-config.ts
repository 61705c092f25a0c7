import { z } from "zod";

/**
 * Hyper-parameters of an {@link EvolutionPipeline}: population, selection, mutation, crossover, early stopping,
 * concurrency and caching. Unknown keys are rejected; a bad value throws an `InvalidArgumentError` naming the field (`config.selectionRatio`).
 *
 * @example
 * ```ts
 * const config = EvolutionConfig.parse({ epochs: 5, populationSize: 20, selectionRatio: 0.5, mutationRate: 0.1 });
 * ```
 */
export const EvolutionConfig = z
  .strictObject({
    /** Generations to run (each evaluates, and all but the last select and mutate). @default 10 */
    epochs: z.number().int().min(1).default(10),
    /** Candidates per generation. @default 20 */
    populationSize: z.number().int().min(1).default(20),
    /** Share of the population kept as parents by the default (truncation) selection, in (0, 1]. @default 0.5 */
    selectionRatio: z.number().gt(0).max(1).default(0.5),
    /** Probability, per gene, that `mutate` changes it; passed to the strategy, in [0, 1]. @default 0.1 */
    mutationRate: z.number().min(0).max(1).default(0.1),
    /** Best candidates carried over unchanged (with their scores) into the next generation. @default 1 */
    elitism: z.number().int().min(0).default(1),
    /** Probability that an offspring is bred by `crossover` of two parents (when the strategy has one). @default 0.5 */
    crossoverRate: z.number().min(0).max(1).default(0.5),
    /** Evaluations (and mutations) running at the same time, at most. @default 1 */
    concurrency: z.number().int().min(1).default(1),
    /** Seed of every random choice; the same seed gives the same run. @default 0 */
    seed: z.number().int().default(0),
    /** Stop as soon as the best score reaches this value. @default undefined (never) */
    targetScore: z.number().optional(),
    /** Stop after this many generations without an improvement of more than `minDelta`. @default undefined (never) */
    patience: z.number().int().min(1).optional(),
    /** Smallest increase of the best score that counts as an improvement for `patience`. @default 0 */
    minDelta: z.number().min(0).default(0),
    /** Reuse the score of a candidate already evaluated (same `key`). @default true */
    cache: z.boolean().default(true),
    /** Abort the run when an evaluation throws, instead of scoring the candidate −∞. @default false */
    failOnError: z.boolean().default(false),
  })
  .superRefine((config, context) => {
    if (config.elitism > config.populationSize) {
      context.addIssue({
        code: "custom",
        path: ["elitism"],
        message: `must not exceed populationSize (${config.populationSize})`,
      });
    }
  });

/** A parsed {@link EvolutionConfig}: every default filled in. */
export type EvolutionConfig = z.output<typeof EvolutionConfig>;
/** What the pipeline accepts: an {@link EvolutionConfig} whose fields may be omitted. */
export type EvolutionConfigInput = z.input<typeof EvolutionConfig>;
