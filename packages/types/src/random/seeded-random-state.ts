import { z } from "zod";

/** The serialisable state of a `SeededRandom`, for checkpoints (`rng.getState()`, `SeededRandom.fromState`). */
export interface SeededRandomState {
  /** Generator name, always `"xoroshiro128plus"`. */
  algorithm: "xoroshiro128plus";
  /** The four 32-bit words of the generator. */
  words: number[];
  /** The second normal deviate of the last Box–Muller pair, not yet handed out. */
  spareNormal: number | null;
}

/**
 * Schema of a {@link SeededRandomState} as a checkpoint file holds it: the algorithm name, exactly four integer
 * words, and the spare normal deviate or null; no other key.
 */
export const SeededRandomState: z.ZodType<SeededRandomState> = z.strictObject({
  algorithm: z.literal("xoroshiro128plus"),
  words: z.array(z.number().int()).length(4),
  spareNormal: z.number().nullable(),
});
