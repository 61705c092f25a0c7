import { deriveSeed, SeededRandom } from "@orbiter/types";

/**
 * A {@link SeededRandom} for one named purpose: the user's seed is hashed with the purpose, so streams of
 * different purposes are independent. (`SeededRandom` seeds its state through SplitMix32, so its first draws
 * need no discarding.)
 */
export function seededStream(seed: number, purpose: string): SeededRandom {
  return new SeededRandom(deriveSeed(seed, purpose));
}
