/**
 * Small integer hash helpers shared by the MinHash index, the template permutation and the seeded
 * augmentations. All work on unsigned 32-bit values held in JavaScript numbers.
 */

/** The murmur3 32-bit finaliser: a bijection on [0, 2^32) with good avalanche. Returns an unsigned value. */
export function mix32(value: number): number {
  let x = value | 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Hashes a string to an unsigned 32-bit value (FNV-1a over UTF-16 code units, then {@link mix32}). */
export function hashString(text: string, seed = 0): number {
  let hash = (0x811c9dc5 ^ seed) | 0;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return mix32(hash);
}
