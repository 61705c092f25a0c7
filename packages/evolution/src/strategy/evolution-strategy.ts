import type { JsonValue, SeededRandom } from "@orbiter/types";

/** What `evaluate` receives besides the candidate. */
export interface EvaluationContext {
  /** 0-based generation. */
  epoch: number;
  /** Position of the candidate in the population. */
  index: number;
  /** A seed derived from the run's seed, the epoch and the index, for evaluations that need randomness. */
  seed: number;
  /** Aborted when the run is cancelled; long evaluations should stop. */
  signal: AbortSignal;
}

/** What `mutate` receives besides the candidate. */
export interface MutationContext {
  /** `config.mutationRate`: the probability, per gene, of a change. */
  mutationRate: number;
  /** A random generator of this offspring alone (deterministic whatever the completion order). */
  rng: SeededRandom;
  /** 0-based generation. */
  epoch: number;
  /** Position of the offspring in the next population. */
  index: number;
}

/** What `crossover` receives besides the two parents. */
export interface CrossoverContext {
  /** A random generator of this offspring alone. */
  rng: SeededRandom;
  /** 0-based generation. */
  epoch: number;
  /** Position of the offspring in the next population. */
  index: number;
}

/** What `select` receives besides the population and the scores. */
export interface SelectionContext {
  /** `config.selectionRatio`. */
  selectionRatio: number;
  /** How many parents the default selection keeps: `max(1, floor(populationSize × selectionRatio))`. */
  count: number;
  /** The run's random generator (selection runs once per generation, in order). */
  rng: SeededRandom;
  /** 0-based generation. */
  epoch: number;
}

/** What `create` receives. */
export interface CreationContext {
  /** A random generator of this candidate alone. */
  rng: SeededRandom;
  /** Position of the candidate in the initial population. */
  index: number;
}

/**
 * How candidates of type `C` are scored and varied: `evaluate` and `mutate`, optionally `select`, `crossover`,
 * `key`, `create`, `encode` and `decode`. Extend it as an abstract class, or pass a plain object with the same methods: only `evaluate` and `mutate` are required. Higher scores
 * are better.
 *
 * @example
 * ```ts
 * class MyStrategy extends EvolutionStrategy<number[]> {
 *   async evaluate(x: number[]) { return -x.reduce((sum, v) => sum + v * v, 0); }
 *   async mutate(x: number[], { rng, mutationRate }: MutationContext) {
 *     return x.map((v) => (rng.bernoulli(mutationRate) ? v + rng.normal(0, 0.1) : v));
 *   }
 * }
 * const strategy = { evaluate: async (x: number) => -Math.abs(x), mutate: (x: number, { rng }) => x + rng.normal() };
 * ```
 */
export abstract class EvolutionStrategy<C> {
  /** Scores a candidate (higher is better). A throw scores −∞ (or aborts with `failOnError`). */
  abstract evaluate(candidate: C, context: EvaluationContext): number | Promise<number>;

  /** Returns a variant of `candidate`; must not change its argument. */
  abstract mutate(candidate: C, context: MutationContext): C | Promise<C>;

  /** Chooses the parents of the next generation. @default truncation to `selectionRatio` */
  select?(population: readonly C[], scores: readonly number[], context: SelectionContext): C[] | Promise<C[]>;

  /** Breeds one child from two parents (it is then mutated). @default none: offspring are mutants of one parent */
  crossover?(first: C, second: C, context: CrossoverContext): C | Promise<C>;

  /** Identity of a candidate for the evaluation cache and diversity. @default stable JSON of the candidate */
  key?(candidate: C): string;

  /** Makes a random candidate, to fill an empty initial population. @default none */
  create?(context: CreationContext): C | Promise<C>;

  /** Turns a candidate into JSON for checkpoints. @default the candidate itself, which must be JSON */
  encode?(candidate: C): JsonValue;

  /** Turns checkpoint JSON back into a candidate. @default the JSON itself */
  decode?(json: JsonValue): C;
}
