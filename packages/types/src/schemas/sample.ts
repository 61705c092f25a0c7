import { z } from "zod";
import { randomUuid } from "../random/random-uuid.js";
import { JsonObject } from "./json.js";

/**
 * One input → output training example, the unit of data synthesis and of supervised or RL training.
 * A trajectory item maps to one: state → input, action → output, reward → score.
 */
export const Sample = z.strictObject({
  /** Unique id. @default a random UUID */
  id: z
    .string()
    .min(1)
    .default(() => randomUuid()),
  /** The prompt or question. */
  input: z.string(),
  /** The answer or completion. */
  output: z.string(),
  /** Quality score, when known. Must be finite. */
  score: z.number().optional(),
  /** Free-form JSON metadata. @default {} */
  metadata: JsonObject.default(() => ({})),
});

/** A validated sample. */
export type Sample = z.output<typeof Sample>;
/** What constructors accept: a sample whose id and metadata may be omitted. */
export type SampleInput = z.input<typeof Sample>;
