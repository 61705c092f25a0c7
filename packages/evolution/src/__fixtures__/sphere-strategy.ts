import {
  type CrossoverContext,
  EvolutionStrategy,
  type MutationContext,
} from "../strategy/evolution-strategy.js";

/** The sphere function, maximised: −Σ xᵢ², optimum 0 at the origin. */
export function sphere(x: readonly number[]): number {
  let sum = 0;
  for (const value of x) sum += value * value;
  return -sum;
}

/** A real-valued strategy for tests: Gaussian mutation with a step that shrinks by epoch, uniform crossover. */
export class SphereStrategy extends EvolutionStrategy<number[]> {
  constructor(private readonly decay = 0.93) {
    super();
  }

  evaluate(x: number[]): number {
    return sphere(x);
  }

  mutate(x: number[], { rng, mutationRate, epoch }: MutationContext): number[] {
    const sigma = 0.5 * this.decay ** epoch;
    return x.map((value) => (rng.bernoulli(mutationRate) ? value + rng.normal(0, sigma) : value));
  }

  override crossover(a: number[], b: number[], { rng }: CrossoverContext): number[] {
    return a.map((value, index) => (rng.bernoulli(0.5) ? value : (b[index] as number)));
  }
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
