import { exactShingleJaccard, fingerprintJaccard, shingleFingerprints } from "../dedup/shingles.js";

/**
 * Every pair `[i, j, similarity]` (i < j) of texts whose character shingle sets have Jaccard similarity ≥ `threshold`,
 * found by comparing all pairs — the ground truth that LSH results are measured against. Fingerprints make
 * the comparison fast; any pair within 0.05 of the threshold is settled on the characters themselves.
 */
export function exactSimilarPairs(
  texts: ReadonlyArray<string>,
  threshold: number,
  shingleSize: number,
): Array<[number, number, number]> {
  const sets = texts.map((text) => {
    const out = new Uint32Array(text.length + 1);
    return out.slice(0, shingleFingerprints(text, shingleSize, out));
  });
  const pairs: Array<[number, number, number]> = [];
  const margin = 0.05;
  for (let j = 0; j < texts.length; j++) {
    const b = sets[j] as Uint32Array;
    for (let i = 0; i < j; i++) {
      const a = sets[i] as Uint32Array;
      if (Math.min(a.length, b.length) < (threshold - margin) * Math.max(a.length, b.length)) continue;
      const estimate = fingerprintJaccard(a, 0, a.length, b, 0, b.length);
      if (estimate < threshold - margin) continue;
      const similarity = exactShingleJaccard(texts[i] as string, texts[j] as string, shingleSize);
      if (similarity >= threshold) pairs.push([i, j, similarity]);
    }
  }
  return pairs;
}

/** Positions removed by exact greedy de-duplication (first occurrence kept), given the similar pairs. */
export function exactGreedyRemovals(
  count: number,
  pairs: ReadonlyArray<readonly [number, number, ...number[]]>,
): Set<number> {
  const earlier = new Map<number, number[]>();
  for (const [i, j] of pairs) {
    const list = earlier.get(j) ?? [];
    if (list.length === 0) earlier.set(j, list);
    list.push(i);
  }
  const removed = new Set<number>();
  for (let j = 0; j < count; j++) {
    const list = earlier.get(j);
    if (list?.some((i) => !removed.has(i))) removed.add(j);
  }
  return removed;
}
