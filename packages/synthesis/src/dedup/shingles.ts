import { mix32 } from "../internal/hash.js";

/** Multiplier of the rolling polynomial hash over UTF-16 code units (odd, so it is invertible mod 2^32). */
const BASE = 0x2f0b3c1d;

/**
 * Writes the 32-bit fingerprints of the character `size`-shingles of `text` into `out` (which must hold at
 * least `max(1, text.length - size + 1)` values), in text order and with repeats. Returns how many were
 * written.
 *
 * A shingle is a run of `size` consecutive UTF-16 code units. A non-empty text shorter than `size` has one
 * shingle, the whole text; the empty text has none. Fingerprints are a rolling polynomial hash finished by
 * {@link mix32}; two different shingles may share a fingerprint (probability about 2^-32 per pair), which is
 * why {@link exactShingleJaccard} re-checks on the characters before anything is removed.
 */
export function rawShingleFingerprints(text: string, size: number, out: Uint32Array): number {
  const length = text.length;
  if (length === 0) return 0;
  if (length <= size) {
    let hash = 0;
    for (let i = 0; i < length; i++) hash = (Math.imul(hash, BASE) + text.charCodeAt(i)) | 0;
    out[0] = mix32(hash ^ length);
    return 1;
  }
  // BASE^size, the weight of the code unit that leaves the window.
  let outgoing = 1;
  for (let i = 0; i < size; i++) outgoing = Math.imul(outgoing, BASE);
  let hash = 0;
  for (let i = 0; i < size; i++) hash = (Math.imul(hash, BASE) + text.charCodeAt(i)) | 0;
  out[0] = mix32(hash ^ size);
  for (let i = size; i < length; i++) {
    hash = (Math.imul(hash, BASE) + text.charCodeAt(i) - Math.imul(text.charCodeAt(i - size), outgoing)) | 0;
    out[i - size + 1] = mix32(hash ^ size);
  }
  return length - size + 1;
}

let radixBuffer = new Uint32Array(1024);
const radixCounts = new Int32Array(256);

/**
 * Sorts `values[start, end)` in place and removes repeats; returns the new end. Short runs use insertion
 * sort, longer ones a least-significant-digit radix sort over four bytes (faster than the built-in sort for
 * the few hundred fingerprints of a text).
 */
export function sortUnique(values: Uint32Array, start: number, end: number): number {
  const length = end - start;
  if (length < 2) return end;
  if (length <= 32) {
    for (let i = start + 1; i < end; i++) {
      const value = values[i] as number;
      let j = i - 1;
      while (j >= start && (values[j] as number) > value) {
        values[j + 1] = values[j] as number;
        j--;
      }
      values[j + 1] = value;
    }
  } else {
    if (radixBuffer.length < length) radixBuffer = new Uint32Array(Math.max(length, radixBuffer.length * 2));
    let from: Uint32Array = values.subarray(start, end);
    let to: Uint32Array = radixBuffer.subarray(0, length);
    for (let shift = 0; shift < 32; shift += 8) {
      radixCounts.fill(0);
      for (let i = 0; i < length; i++) {
        const bucket = ((from[i] as number) >>> shift) & 0xff;
        radixCounts[bucket] = (radixCounts[bucket] as number) + 1;
      }
      let total = 0;
      for (let b = 0; b < 256; b++) {
        const count = radixCounts[b] as number;
        radixCounts[b] = total;
        total += count;
      }
      for (let i = 0; i < length; i++) {
        const value = from[i] as number;
        const bucket = (value >>> shift) & 0xff;
        to[radixCounts[bucket] as number] = value;
        radixCounts[bucket] = (radixCounts[bucket] as number) + 1;
      }
      const swap = from;
      from = to;
      to = swap;
    }
    // After an even number of passes the sorted values are back in `values`.
  }
  let unique = start + 1;
  for (let i = start + 1; i < end; i++) {
    const value = values[i] as number;
    if (value !== values[unique - 1]) values[unique++] = value;
  }
  return unique;
}

/**
 * Like {@link rawShingleFingerprints}, but sorted and without repeats: the text's shingle set as
 * fingerprints. Returns its size.
 */
export function shingleFingerprints(text: string, size: number, out: Uint32Array): number {
  return sortUnique(out, 0, rawShingleFingerprints(text, size, out));
}

/**
 * Jaccard similarity of two sorted, repeat-free fingerprint sets stored in `a[aStart, aEnd)` and
 * `b[bStart, bEnd)`. Two empty sets have similarity 1.
 */
export function fingerprintJaccard(
  a: Uint32Array,
  aStart: number,
  aEnd: number,
  b: Uint32Array,
  bStart: number,
  bEnd: number,
): number {
  const sizeA = aEnd - aStart;
  const sizeB = bEnd - bStart;
  if (sizeA === 0 && sizeB === 0) return 1;
  let i = aStart;
  let j = bStart;
  let common = 0;
  while (i < aEnd && j < bEnd) {
    const x = a[i] as number;
    const y = b[j] as number;
    if (x === y) {
      common++;
      i++;
      j++;
    } else if (x < y) i++;
    else j++;
  }
  return common / (sizeA + sizeB - common);
}

/** The set of character `size`-shingles of `text`, as strings (see {@link shingleFingerprints}). */
export function shingleSet(text: string, size: number): Set<string> {
  const set = new Set<string>();
  if (text.length === 0) return set;
  if (text.length <= size) {
    set.add(text);
    return set;
  }
  for (let i = 0; i + size <= text.length; i++) set.add(text.slice(i, i + size));
  return set;
}

/**
 * Exact Jaccard similarity of the character `size`-shingle sets of two texts, computed on the characters
 * themselves (no hashing). Two empty texts have similarity 1.
 *
 * @example
 * ```ts
 * exactShingleJaccard("abcdef", "abcdeg", 3); // 3 shared of 5 distinct shingles → 0.6
 * ```
 */
export function exactShingleJaccard(a: string, b: string, size: number): number {
  const setA = shingleSet(a, size);
  const setB = shingleSet(b, size);
  if (setA.size === 0 && setB.size === 0) return 1;
  let common = 0;
  for (const shingle of setB) if (setA.has(shingle)) common++;
  return common / (setA.size + setB.size - common);
}
