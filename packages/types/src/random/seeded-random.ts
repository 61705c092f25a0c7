import { uniformFloat64 } from "pure-rand/distribution/uniformFloat64";
import { uniformInt } from "pure-rand/distribution/uniformInt";
import { xoroshiro128plusFromState } from "pure-rand/generator/xoroshiro128plus";
import type { JumpableRandomGenerator } from "pure-rand/types/JumpableRandomGenerator";
import { InvalidArgumentError } from "../errors/error-kinds.js";
import type { SeededRandomState } from "./seeded-random-state.js";

/**
 * Expands a 32-bit seed into the four state words of xoroshiro128+ with SplitMix32, the seeding its authors
 * recommend. (Seeding the generator's words with the seed directly makes the first draws of nearby seeds
 * nearly equal and close to 1.)
 */
function seededGenerator(seed: number): JumpableRandomGenerator {
  let state = seed | 0;
  const words: number[] = [];
  for (let i = 0; i < 4; i++) {
    state = (state + 0x9e3779b9) | 0;
    let mixed = state ^ (state >>> 16);
    mixed = Math.imul(mixed, 0x21f0aaad);
    mixed ^= mixed >>> 15;
    mixed = Math.imul(mixed, 0x735a2d97);
    words.push((mixed ^ (mixed >>> 15)) | 0);
  }
  // xoroshiro128+ must not start from the all-zero state.
  if (words.every((word): boolean => word === 0)) words[0] = 1;
  return xoroshiro128plusFromState(words);
}

/**
 * Hashes any number of strings and integers into a 32-bit seed (FNV-1a), so that sub-streams can be derived
 * from a base seed and a name: `deriveSeed(seed, "rollout", step)`.
 */
export function deriveSeed(...parts: Array<string | number>): number {
  let hash = 0x811c9dc5;
  for (const part of parts) {
    const text = typeof part === "number" ? `#${part}` : part;
    for (let i = 0; i < text.length; i++) {
      hash ^= text.charCodeAt(i);
      hash = Math.imul(hash, 0x01000193);
    }
    hash ^= 0x2f;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash | 0;
}

/**
 * A seeded, reproducible random number generator (xoroshiro128+ from pure-rand) with the helpers the
 * orbiter-train packages need. The same seed gives the same sequence on every platform, and the state can be
 * saved and restored exactly.
 *
 * @example
 * ```ts
 * const rng = new SeededRandom(42);
 * rng.uniform(); rng.integer(1, 6); rng.shuffle([1, 2, 3]); rng.normal(0, 1);
 * ```
 */
export class SeededRandom {
  private generator: JumpableRandomGenerator;
  private spareNormal: number | null = null;

  /** @param seed any finite number (it is truncated to 32 bits) */
  constructor(seed: number) {
    if (!Number.isFinite(seed)) {
      throw new InvalidArgumentError(`Invalid seed: expected a finite number, got ${seed}`, {
        field: "seed",
        value: seed,
      });
    }
    this.generator = seededGenerator(Math.trunc(seed) | 0);
  }

  /** Restores a generator saved with {@link SeededRandom.getState}. */
  static fromState(state: SeededRandomState): SeededRandom {
    if (state?.algorithm !== "xoroshiro128plus" || !Array.isArray(state.words) || state.words.length !== 4) {
      throw new InvalidArgumentError(
        "Invalid random state: expected { algorithm: 'xoroshiro128plus', words[4] }",
        {
          field: "state",
          value: state,
        },
      );
    }
    const random = new SeededRandom(0);
    random.generator = xoroshiro128plusFromState(state.words);
    random.spareNormal = state.spareNormal ?? null;
    return random;
  }

  /** A copy of the complete state; `SeededRandom.fromState(rng.getState())` continues the same sequence. */
  getState(): SeededRandomState {
    return {
      algorithm: "xoroshiro128plus",
      words: [...this.generator.getState()],
      spareNormal: this.spareNormal,
    };
  }

  /** An independent copy in the same state. */
  clone(): SeededRandom {
    return SeededRandom.fromState(this.getState());
  }

  /**
   * A new generator for a separate stream, derived from this one's next draws: splitting work between
   * children keeps each child reproducible regardless of how much the others draw.
   */
  fork(): SeededRandom {
    return new SeededRandom(this.int32());
  }

  /** A uniform 32-bit signed integer. */
  int32(): number {
    return this.generator.next();
  }

  /** A uniform float in [0, 1) with 53 bits of randomness. */
  next(): number {
    return uniformFloat64(this.generator);
  }

  /** A uniform float in [min, max). @default min 0, max 1 */
  uniform(min = 0, max = 1): number {
    return min + (max - min) * this.next();
  }

  /** A uniform integer in [min, max], both ends included. */
  integer(min: number, max: number): number {
    if (!Number.isInteger(min) || !Number.isInteger(max) || max < min) {
      const field = Number.isInteger(min) ? "max" : "min";
      throw new InvalidArgumentError(`Invalid integer range [${min}, ${max}]`, {
        field,
        value: field === "min" ? min : max,
      });
    }
    return uniformInt(this.generator, min, max);
  }

  /** True with probability `p`. */
  bernoulli(p: number): boolean {
    return this.next() < p;
  }

  /** A normal deviate (Box–Muller, the pair's second value is kept for the next call). @default mean 0, std 1 */
  normal(mean = 0, std = 1): number {
    if (this.spareNormal !== null) {
      const value = this.spareNormal;
      this.spareNormal = null;
      return mean + std * value;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const radius = Math.sqrt(-2 * Math.log(u));
    const angle = 2 * Math.PI * v;
    this.spareNormal = radius * Math.sin(angle);
    return mean + std * radius * Math.cos(angle);
  }

  /** One element chosen uniformly. Throws on an empty array. */
  choice<T>(items: ReadonlyArray<T>): T {
    if (items.length === 0)
      throw new InvalidArgumentError("Cannot choose from an empty array", { field: "items" });
    return items[this.integer(0, items.length - 1)] as T;
  }

  /** Index chosen with probability proportional to `weights` (non-negative, not all zero). */
  weightedIndex(weights: ReadonlyArray<number>): number {
    let total = 0;
    for (const weight of weights) {
      if (!(weight >= 0) || !Number.isFinite(weight)) {
        throw new InvalidArgumentError("Weights must be finite and non-negative", { field: "weights" });
      }
      total += weight;
    }
    if (total <= 0) throw new InvalidArgumentError("Weights must not all be zero", { field: "weights" });
    let target = this.next() * total;
    let last = 0;
    for (let i = 0; i < weights.length; i++) {
      const weight = weights[i] as number;
      target -= weight;
      if (target < 0) return i;
      if (weight > 0) last = i;
    }
    // Rounding can leave a draw close to 1 past the sum: it belongs to the last index that can be drawn.
    return last;
  }

  /** Shuffles `items` in place (Fisher–Yates) and returns it. */
  shuffleInPlace<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.integer(0, i);
      const swap = items[i] as T;
      items[i] = items[j] as T;
      items[j] = swap;
    }
    return items;
  }

  /** A shuffled copy of `items`; the input is not changed. */
  shuffle<T>(items: ReadonlyArray<T>): T[] {
    return this.shuffleInPlace([...items]);
  }

  /** `count` distinct elements in random order (without replacement). */
  sample<T>(items: ReadonlyArray<T>, count: number): T[] {
    if (!Number.isInteger(count) || count < 0 || count > items.length) {
      throw new InvalidArgumentError(`Cannot sample ${count} of ${items.length} items`, { field: "count" });
    }
    const pool = [...items];
    for (let i = 0; i < count; i++) {
      const j = this.integer(i, pool.length - 1);
      const swap = pool[i] as T;
      pool[i] = pool[j] as T;
      pool[j] = swap;
    }
    return pool.slice(0, count);
  }
}
