import { InvalidArgumentError, SeededRandom } from "@orbiter/types";
import { mix32 } from "./hash.js";

/** Largest space a permutation can cover with exact double arithmetic (two 26-bit Feistel halves). */
export const MAX_PERMUTATION_SIZE = 2 ** 52;

const ROUNDS = 8;

/**
 * A seeded bijection of [0, size) computed one index at a time, without storing the permutation: a balanced
 * Feistel network over the smallest even power of two covering `size`, with cycle walking to stay inside
 * the range (a format-preserving shuffle). Any round function gives a bijection; here each round mixes
 * the right half with a seeded key through {@link mix32}.
 */
export class IndexPermutation {
  /** Size of the permuted range. */
  readonly size: number;
  private readonly halfBits: number;
  private readonly halfSize: number;
  private readonly mask: number;
  private readonly keys: Int32Array;

  constructor(size: number, seed: number) {
    if (!Number.isInteger(size) || size < 1 || size > MAX_PERMUTATION_SIZE) {
      throw new InvalidArgumentError(`Permutation size must be an integer in [1, 2^52], got ${size}`, {
        field: "size",
        value: size,
      });
    }
    this.size = size;
    const bits = Math.max(2, Math.ceil(Math.log2(size)));
    this.halfBits = Math.ceil(bits / 2);
    // log2 may round: make sure the domain really covers the size.
    while (2 ** (2 * this.halfBits) < size) this.halfBits++;
    this.halfSize = 2 ** this.halfBits;
    this.mask = this.halfSize - 1;
    const random = new SeededRandom(seed);
    this.keys = new Int32Array(ROUNDS);
    for (let i = 0; i < ROUNDS; i++) this.keys[i] = random.int32();
  }

  /** The image of `index` (an integer in [0, size)). */
  at(index: number): number {
    let value = index;
    do value = this.encrypt(value);
    while (value >= this.size);
    return value;
  }

  private encrypt(value: number): number {
    const { halfSize, mask, keys } = this;
    let left = Math.floor(value / halfSize);
    let right = value - left * halfSize;
    for (let round = 0; round < ROUNDS; round++) {
      const next = (left ^ (mix32(right ^ (keys[round] as number)) & mask)) >>> 0;
      left = right;
      right = next;
    }
    return left * halfSize + right;
  }
}
