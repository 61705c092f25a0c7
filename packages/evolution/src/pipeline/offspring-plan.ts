import type { SeededRandom } from "@orbiter/types";

/** How one offspring is made: from which parent(s), with its own generator. */
export interface OffspringPlan {
  /** Index of the parent mutated (or crossed first). */
  firstIndex: number;
  /** Index of the second parent when this offspring comes from a crossover. */
  secondIndex: number | undefined;
  /** The offspring's own generator, forked from the run's. */
  rng: SeededRandom;
}

/**
 * Draws every random decision of a generation's offspring in index order, before any asynchronous work, so the
 * same seed makes the same offspring whatever the concurrency: parent `offset % parents` for each, a crossover
 * with probability `crossoverRate` (with another parent drawn uniformly) when the strategy can cross, and a
 * forked generator.
 */
export function planOffspring(
  rng: SeededRandom,
  count: number,
  parents: number,
  crossoverRate: number,
  canCross: boolean,
): OffspringPlan[] {
  return Array.from({ length: count }, (_, offset) => {
    const firstIndex = offset % parents;
    let secondIndex: number | undefined;
    if (canCross && parents > 1 && crossoverRate > 0 && rng.bernoulli(crossoverRate)) {
      secondIndex = rng.integer(0, parents - 2);
      if (secondIndex >= firstIndex) secondIndex++;
    }
    return { firstIndex, secondIndex, rng: rng.fork() };
  });
}
