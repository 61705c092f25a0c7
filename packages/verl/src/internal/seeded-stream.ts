import { deriveSeed, SeededRandom } from "@orbiter/types";

/**
 * A {@link SeededRandom} for one named purpose: the user's seed is hashed with the purpose (so streams of
 * different purposes are independent), and the generator's first outputs are discarded, because right after
 * seeding xoroshiro128+ returns values close to 1 that move linearly with the seed.
 */
export function seededStream(seed: number, purpose: string): SeededRandom {
  const rng = new SeededRandom(deriveSeed(seed, purpose));
  for (let i = 0; i < 8; i++) rng.next();
  return rng;
}
