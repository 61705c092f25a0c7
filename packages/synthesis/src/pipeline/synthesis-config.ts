import { functionSchema, type Sample } from "@orbiter/types";
import { z } from "zod";

/**
 * Gives a quality score to a sample; may be async (an LLM judge, a verifier). Must return a finite number.
 * `signal` fires when the run is aborted — pass it on to a remote judge.
 */
export type SampleScorer = (sample: Sample, context: { signal: AbortSignal }) => number | Promise<number>;

/** Which text of a sample near-duplicate detection compares: a field, both, or a function of the sample. */
export type DedupKey = "input" | "output" | "both" | ((sample: Sample) => string);

/**
 * Configuration of a {@link SynthesisPipeline}. Parse with `SynthesisConfig.parse(x)` or pass the input form
 * to the pipeline constructor; unknown keys are rejected.
 *
 * @example
 * ```ts
 * const config = SynthesisConfig.parse({ targetSize: 1000, minScore: 0.7, dedupThreshold: 0.9 });
 * ```
 */
export const SynthesisConfig = z.strictObject({
  /** How many samples (kept seed samples included) the pipeline aims for; at least 1. @default 1000 */
  targetSize: z.number().int().positive().default(1000),
  /**
   * Samples scoring below this are dropped. When omitted there is no score filter.
   * Unscored samples are kept unless `dropUnscored` is set. @default undefined
   */
  minScore: z.number().refine(Number.isFinite, "must be finite").optional(),
  /** Drop samples that have no score after scoring (only meaningful with `minScore`). @default false */
  dropUnscored: z.boolean().default(false),
  /**
   * Jaccard similarity of character shingles at or above which a sample duplicates one already kept, in
   * [0, 1]; `1` removes exact duplicates only. @default 0.9
   */
  dedupThreshold: z.number().min(0).max(1).default(0.9),
  /** What near-duplicate detection compares. @default "both" */
  dedupKey: z
    .union([z.enum(["input", "output", "both"]), functionSchema<(sample: Sample) => string>()])
    .default("both"),
  /** Shingle length (UTF-16 code units) for near-duplicate detection. @default 5 */
  shingleSize: z.number().int().positive().default(5),
  /** Seed of every random choice the pipeline and its steps make. @default 0 */
  seed: z.number().int().default(0),
  /** Most scorer calls in flight at once (steps may read it too). @default 4 */
  concurrency: z.number().int().positive().default(4),
  /** Most rounds of asking the steps for more samples. @default 10 */
  maxRounds: z.number().int().positive().default(10),
  /** Scores every new sample (and seed samples that have no score). @default undefined */
  scorer: functionSchema<SampleScorer>("expected a function (sample) => number").optional(),
});

/** A parsed {@link SynthesisConfig} with defaults filled in. */
export type SynthesisConfig = z.output<typeof SynthesisConfig>;
/** What the pipeline constructor accepts. */
export type SynthesisConfigInput = z.input<typeof SynthesisConfig>;
