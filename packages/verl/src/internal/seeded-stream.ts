import { deriveSeed, SeededRandom } from "@orbiter/types";

/**
 * A {@link SeededRandom} for one named purpose: the user's seed is hashed with the purpose (so streams of
 * different purposes are independent), and the generator's first 8 outputs are skipped.
 *
 * The skip was added for a seeding bug of `SeededRandom` that is fixed (it now seeds through SplitMix32), so it
 * is no longer needed for quality; it stays because every rollout and SFT stream, and so every recorded run and
 * example, is defined by it: removing it changes all of them (the examples' GRPO run then learns less than its
 * test asks on the new stream).
 */
export function seededStream(seed: number, purpose: string): SeededRandom {
  const rng = new SeededRandom(deriveSeed(seed, purpose));
  for (let i = 0; i < 8; i++) rng.next();
  return rng;
}
