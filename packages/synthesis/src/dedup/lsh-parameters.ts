import { InvalidArgumentError } from "@orbiter/types";

/** How a MinHash signature is cut for locality-sensitive hashing: `bands` bands of `rows` hashes each. */
export interface LshParameters {
  /** Number of bands; two documents become candidates when any band matches. */
  bands: number;
  /** Hashes per band. */
  rows: number;
  /** Probability that a pair at exactly the threshold becomes a candidate: `1 - (1 - t^rows)^bands`. */
  recallAtThreshold: number;
}

/** Options of {@link chooseLshParameters}. */
export interface ChooseLshParametersOptions {
  /** Most MinHash functions that may be computed per document (`bands × rows ≤ maxHashes`). @default 128 */
  maxHashes?: number;
  /** Wanted probability that a pair at exactly the threshold is found. @default 0.99 */
  recall?: number;
}

/**
 * Probability that two documents with Jaccard similarity `similarity` share at least one LSH band:
 * `1 - (1 - s^rows)^bands`.
 */
export function lshCandidateProbability(similarity: number, bands: number, rows: number): number {
  return 1 - (1 - similarity ** rows) ** bands;
}

/**
 * Chooses bands and rows for a Jaccard `threshold`: among the shapes that reach the wanted `recall` for a
 * pair at exactly the threshold (pairs above it are found more often still), it takes the one with the most
 * rows per band — the steepest S-curve, so the fewest dissimilar pairs become candidates — and, for those
 * rows, the fewest bands. When no shape within `maxHashes` reaches the recall, the shape with the highest
 * recall is returned (its `recallAtThreshold` says how far short it falls).
 *
 * @example
 * ```ts
 * chooseLshParameters(0.9, { maxHashes: 64 }); // { bands: 8, rows: 7, recallAtThreshold: 0.9945… }
 * ```
 */
export function chooseLshParameters(
  threshold: number,
  options: ChooseLshParametersOptions = {},
): LshParameters {
  const maxHashes = options.maxHashes ?? 128;
  const recall = options.recall ?? 0.99;
  if (!(threshold > 0 && threshold < 1)) {
    throw new InvalidArgumentError(`LSH needs a threshold strictly between 0 and 1, got ${threshold}`, {
      field: "threshold",
      value: threshold,
    });
  }
  if (!Number.isInteger(maxHashes) || maxHashes < 1) {
    throw new InvalidArgumentError(`maxHashes must be a positive integer, got ${maxHashes}`, {
      field: "maxHashes",
      value: maxHashes,
    });
  }
  if (!(recall > 0 && recall < 1)) {
    throw new InvalidArgumentError(`recall must be strictly between 0 and 1, got ${recall}`, {
      field: "recall",
      value: recall,
    });
  }
  let best: LshParameters = { bands: maxHashes, rows: 1, recallAtThreshold: 0 };
  best.recallAtThreshold = lshCandidateProbability(threshold, best.bands, best.rows);
  for (let rows = maxHashes; rows >= 1; rows--) {
    const hit = threshold ** rows;
    if (hit <= 0) continue;
    // Smallest number of bands with 1 - (1 - hit)^bands ≥ recall.
    const bands = hit >= 1 ? 1 : Math.ceil(Math.log(1 - recall) / Math.log1p(-hit) - 1e-12);
    if (bands >= 1 && bands * rows <= maxHashes) {
      return { bands, rows, recallAtThreshold: lshCandidateProbability(threshold, bands, rows) };
    }
    const fit = Math.floor(maxHashes / rows);
    const reach = lshCandidateProbability(threshold, fit, rows);
    if (reach > best.recallAtThreshold) best = { bands: fit, rows, recallAtThreshold: reach };
  }
  return best;
}
