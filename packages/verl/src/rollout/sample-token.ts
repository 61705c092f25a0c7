import type { SeededRandom } from "@orbiter/types";

/** How {@link sampleToken} restricts the distribution before drawing. */
export interface SamplingFilter {
  /** Keep the k most likely tokens (0 = all). */
  topK: number;
  /** Keep the smallest most-likely set whose probability reaches p (1 = all). */
  topP: number;
  /** Take the most likely token. */
  greedy: boolean;
}

/**
 * Draws one token id from the log-probabilities `logProbs[offset .. offset + size)` (already temperature
 * scaled and normalised), after top-k then top-p filtering, with one uniform draw from `rng`. The draw never
 * leaves the filtered set. Ties are broken by the lower id.
 */
export function sampleToken(
  logProbs: Float32Array,
  offset: number,
  size: number,
  filter: SamplingFilter,
  rng: SeededRandom,
  scratch: { order: Int32Array; probs: Float64Array },
): number {
  if (filter.greedy) {
    let best = 0;
    let bestValue = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < size; i++) {
      const value = logProbs[offset + i]!;
      if (value > bestValue) {
        bestValue = value;
        best = i;
      }
    }
    return best;
  }
  const u = rng.next();
  if (filter.topK === 0 && filter.topP >= 1) {
    let total = 0;
    for (let i = 0; i < size; i++) total += Math.exp(logProbs[offset + i]!);
    const target = u * total;
    let cumulative = 0;
    let last = 0;
    for (let i = 0; i < size; i++) {
      const p = Math.exp(logProbs[offset + i]!);
      if (p > 0) last = i;
      cumulative += p;
      if (cumulative > target) return i;
    }
    return last;
  }
  const order = scratch.order;
  for (let i = 0; i < size; i++) order[i] = i;
  const view = order.subarray(0, size);
  view.sort((a, b) => logProbs[offset + b]! - logProbs[offset + a]! || a - b);
  let keep = filter.topK > 0 ? Math.min(filter.topK, size) : size;
  const probs = scratch.probs;
  let total = 0;
  for (let i = 0; i < keep; i++) {
    probs[i] = Math.exp(logProbs[offset + view[i]!]!);
    total += probs[i]!;
  }
  if (filter.topP < 1) {
    let cumulative = 0;
    for (let i = 0; i < keep; i++) {
      cumulative += probs[i]! / total;
      if (cumulative >= filter.topP) {
        keep = i + 1;
        break;
      }
    }
    total = 0;
    for (let i = 0; i < keep; i++) total += probs[i]!;
  }
  const target = u * total;
  let cumulative = 0;
  for (let i = 0; i < keep; i++) {
    cumulative += probs[i]!;
    if (cumulative > target) return view[i]!;
  }
  return view[keep - 1]!;
}
