import { deriveSeed, SeededRandom } from "@orbiter/types";

/**
 * A {@link SeededRandom} for one named purpose: the user's seed is hashed with the purpose, so streams of
 * different purposes (the SFT shuffle, each rollout row's sampling) are independent of each other and of the
 * order in which they are created.
 */
export function seededStream(seed: number, purpose: string): SeededRandom {
  return new SeededRandom(deriveSeed(seed, purpose));
}
