import { InvalidArgumentError } from "@orbiter/types";
import { chooseLshParameters, type LshParameters } from "./lsh-parameters.js";
import { type MinHashMethod, MinHashSignature } from "./minhash-signature.js";
import { exactShingleJaccard, fingerprintJaccard, rawShingleFingerprints, sortUnique } from "./shingles.js";

export type { MinHashMethod };

/** Options of {@link NearDuplicateIndex}. */
export interface NearDuplicateIndexOptions {
  /**
   * Jaccard similarity of character shingles at or above which a text counts as a duplicate, in [0, 1].
   * `1` means exact duplicates only (equal strings); `0` makes every text a duplicate of the first.
   */
  threshold: number;
  /** Shingle length in UTF-16 code units. @default 5 */
  shingleSize?: number;
  /** Most MinHash functions computed per text; bands and rows are chosen within it. @default 64 */
  maxHashes?: number;
  /** Wanted probability that a pair at exactly the threshold is found by LSH. @default 0.99 */
  recall?: number;
  /** Explicit LSH shape, instead of choosing one from `threshold`, `maxHashes` and `recall`. */
  lsh?: { bands: number; rows: number };
  /** How signatures are computed. @default "one-permutation" */
  hashing?: MinHashMethod;
  /** Seed of the MinHash functions. @default 0 */
  seed?: number;
}

/** A text found to be a near-duplicate of one already in the index. */
export interface DuplicateMatch {
  /** Position (in insertion order) of the kept text it duplicates. */
  index: number;
  /** Exact Jaccard similarity of their shingle sets (1 for exact duplicates). */
  similarity: number;
}

const EMPTY = -1;

/**
 * An incremental near-duplicate detector over texts: MinHash signatures bucketed by LSH bands propose
 * candidates, and every candidate is verified by exact Jaccard similarity of the character shingles before
 * a text is called a duplicate, so nothing is ever reported below the threshold. Candidates are proposed by
 * a pure function of the two texts (and the seed), so results do not depend on what else was added.
 *
 * @example
 * ```ts
 * const index = new NearDuplicateIndex({ threshold: 0.8 });
 * index.addIfNew("the quick brown fox jumps over the lazy dog"); // undefined: added
 * index.addIfNew("the quick brown fox jumps over the lazy dog!"); // { index: 0, similarity: 0.97… }
 * ```
 */
export class NearDuplicateIndex {
  /** The similarity threshold. */
  readonly threshold: number;
  /** Shingle length in UTF-16 code units. */
  readonly shingleSize: number;
  /** The LSH shape in use, or `undefined` in the exact (threshold 1) and trivial (threshold 0) modes. */
  readonly lsh: LshParameters | undefined;
  /** How signatures are computed. */
  readonly hashing: MinHashMethod;

  private readonly texts: string[] = [];
  /** Threshold 1: the positions of each distinct text. */
  private readonly exact: Map<string, number[]> | undefined;
  /** The MinHash signer (LSH modes only). */
  private readonly signer: MinHashSignature | undefined;
  private scratch = new Uint32Array(256);
  /** Number of fingerprints in `scratch`, and whether they are sorted and repeat-free yet. */
  private scratchCount = 0;
  private scratchSorted = false;
  /** The text whose fingerprints and signature `scratch` and `signature` hold (so `add` after `find` is cheap). */
  private prepared: string | undefined;
  // Fingerprints of every kept text, back to back.
  private pool = new Uint32Array(1 << 16);
  private poolLength = 0;
  private starts = new Int32Array(1024);
  private ends = new Int32Array(1024);
  private stamps = new Int32Array(1024);
  /** 1 once a kept text's fingerprints have been sorted (they are sorted only when first needed). */
  private sorted = new Uint8Array(1024);
  private stamp = 0;
  // Open-addressing table from band key to the head of a chain of entries (one entry per kept text and band).
  private slotKeys = new Int32Array(1 << 12);
  private slotHeads = new Int32Array(1 << 12).fill(EMPTY);
  private slotCount = 0;
  private entryDocs = new Int32Array(1 << 12);
  private entryNext = new Int32Array(1 << 12);
  private entryCount = 0;

  constructor(options: NearDuplicateIndexOptions) {
    const { threshold } = options;
    if (typeof threshold !== "number" || !(threshold >= 0 && threshold <= 1)) {
      throw new InvalidArgumentError(`threshold must be a number in [0, 1], got ${String(threshold)}`, {
        field: "threshold",
        value: threshold,
      });
    }
    const shingleSize = options.shingleSize ?? 5;
    if (!Number.isInteger(shingleSize) || shingleSize < 1) {
      throw new InvalidArgumentError(`shingleSize must be a positive integer, got ${shingleSize}`, {
        field: "shingleSize",
        value: shingleSize,
      });
    }
    const seed = options.seed ?? 0;
    if (!Number.isFinite(seed)) {
      throw new InvalidArgumentError(`seed must be a finite number, got ${seed}`, {
        field: "seed",
        value: seed,
      });
    }
    const hashing = options.hashing ?? "one-permutation";
    if (hashing !== "one-permutation" && hashing !== "independent") {
      throw new InvalidArgumentError(
        `hashing must be "one-permutation" or "independent", got ${String(hashing)}`,
        {
          field: "hashing",
          value: hashing,
        },
      );
    }
    this.hashing = hashing;
    this.threshold = threshold;
    this.shingleSize = shingleSize;
    if (threshold === 1) {
      this.exact = new Map();
      this.lsh = undefined;
      this.signer = undefined;
      return;
    }
    this.exact = undefined;
    if (threshold === 0) {
      this.lsh = undefined;
      this.signer = undefined;
      return;
    }
    if (options.lsh) {
      const { bands, rows } = options.lsh;
      for (const [name, value] of [
        ["lsh.bands", bands],
        ["lsh.rows", rows],
      ] as const) {
        if (!Number.isInteger(value) || value < 1) {
          throw new InvalidArgumentError(`${name} must be a positive integer, got ${value}`, {
            field: name,
            value,
          });
        }
      }
      const recallAtThreshold = 1 - (1 - threshold ** rows) ** bands;
      this.lsh = { bands, rows, recallAtThreshold };
    } else {
      this.lsh = chooseLshParameters(threshold, {
        maxHashes: options.maxHashes ?? 64,
        recall: options.recall ?? 0.99,
      });
    }
    this.signer = new MinHashSignature(this.lsh, hashing, seed);
  }

  /** How many texts the index holds. */
  get size(): number {
    return this.texts.length;
  }

  /** The text added at position `index`. */
  textAt(index: number): string | undefined {
    return this.texts[index];
  }

  /** The kept text that `text` duplicates, if any; the index is not changed. */
  find(text: string): DuplicateMatch | undefined {
    return this.lookup(text, false);
  }

  /** Every held text that `text` duplicates (verified, by position); the index is not changed. */
  findAll(text: string): DuplicateMatch[] {
    if (this.exact) {
      return (this.exact.get(text) ?? []).map((index) => ({ index, similarity: 1 }));
    }
    if (!this.lsh) {
      return this.texts.map((held, index) => ({
        index,
        similarity: exactShingleJaccard(held, text, this.shingleSize),
      }));
    }
    const all: DuplicateMatch[] = [];
    this.prepare(text);
    this.verifyCandidates(text, all);
    return all.sort((a, b) => a.index - b.index);
  }

  /** Adds `text` unless it duplicates a text already held; returns the match when it does (nothing added). */
  addIfNew(text: string): DuplicateMatch | undefined {
    return this.lookup(text, true);
  }

  /**
   * Adds `text` without checking it, and returns its position. Right after `find(text)` this reuses the
   * signature `find` computed.
   */
  add(text: string): number {
    if (this.exact) {
      const positions = this.exact.get(text);
      if (positions) positions.push(this.texts.length);
      else this.exact.set(text, [this.texts.length]);
    } else if (this.lsh) {
      if (this.prepared !== text) this.prepare(text);
      this.insert();
    }
    this.texts.push(text);
    return this.texts.length - 1;
  }

  private lookup(text: string, insert: boolean): DuplicateMatch | undefined {
    if (this.exact) {
      const found = this.exact.get(text);
      if (found !== undefined) return { index: found[0] as number, similarity: 1 };
      if (insert) {
        this.exact.set(text, [this.texts.length]);
        this.texts.push(text);
      }
      return undefined;
    }
    if (!this.lsh) {
      // Threshold 0: every pair qualifies, so only the first text is ever kept.
      if (this.texts.length > 0) {
        return { index: 0, similarity: exactShingleJaccard(this.texts[0] as string, text, this.shingleSize) };
      }
      if (insert) this.texts.push(text);
      return undefined;
    }
    this.prepare(text);
    const match = this.verifyCandidates(text);
    if (match === undefined && insert) {
      this.insert();
      this.texts.push(text);
    }
    return match;
  }

  /** Computes the fingerprints and the signature of `text`. */
  private prepare(text: string): void {
    this.fingerprint(text);
    (this.signer as MinHashSignature).sign(this.scratch, this.scratchCount);
    this.prepared = text;
  }

  /** Writes the fingerprints of `text` into `scratch` (unsorted; sorted later only if needed). */
  private fingerprint(text: string): void {
    if (this.scratch.length < text.length + 1) {
      this.scratch = new Uint32Array(Math.max(text.length + 1, this.scratch.length * 2));
    }
    this.scratchCount = rawShingleFingerprints(text, this.shingleSize, this.scratch);
    this.scratchSorted = false;
  }

  /** Sorts the current text's fingerprints (once) and returns how many distinct ones there are. */
  private sortedScratch(): number {
    if (!this.scratchSorted) {
      this.scratchCount = sortUnique(this.scratch, 0, this.scratchCount);
      this.scratchSorted = true;
    }
    return this.scratchCount;
  }

  /** End of kept text `doc`'s fingerprints, sorting them (once) first. */
  private sortedEnd(doc: number): number {
    if (this.sorted[doc] === 0) {
      this.ends[doc] = sortUnique(this.pool, this.starts[doc] as number, this.ends[doc] as number);
      this.sorted[doc] = 1;
    }
    return this.ends[doc] as number;
  }

  /** The first verified match, or, with `all`, every verified match pushed into `all`. */
  private verifyCandidates(text: string, all?: DuplicateMatch[]): DuplicateMatch | undefined {
    const { slotKeys, slotHeads, entryDocs, entryNext, starts, threshold } = this;
    const { bandKeys } = this.signer as MinHashSignature;
    const mask = slotKeys.length - 1;
    const stampValue = ++this.stamp;
    const stamps = this.stamps;
    for (let band = 0; band < bandKeys.length; band++) {
      const key = bandKeys[band] as number;
      let slot = key & mask;
      while (slotHeads[slot] !== EMPTY && slotKeys[slot] !== key) slot = (slot + 1) & mask;
      for (let entry = slotHeads[slot] as number; entry !== EMPTY; entry = entryNext[entry] as number) {
        const doc = entryDocs[entry] as number;
        if (stamps[doc] === stampValue) continue;
        stamps[doc] = stampValue;
        const count = this.sortedScratch();
        const start = starts[doc] as number;
        const end = this.sortedEnd(doc);
        const size = end - start;
        // |A ∩ B| / |A ∪ B| ≤ min / max: skip pairs whose sizes alone rule them out.
        if (Math.min(size, count) < threshold * Math.max(size, count)) continue;
        if (fingerprintJaccard(this.pool, start, end, this.scratch, 0, count) < threshold) continue;
        // Fingerprints can collide: confirm on the characters before calling it a duplicate.
        const similarity = exactShingleJaccard(this.texts[doc] as string, text, this.shingleSize);
        if (similarity < threshold) continue;
        if (!all) return { index: doc, similarity };
        all.push({ index: doc, similarity });
      }
    }
    return undefined;
  }

  private insert(): void {
    const count = this.scratchCount;
    const doc = this.texts.length;
    if (doc >= this.starts.length) {
      const capacity = this.starts.length * 2;
      this.starts = grow(this.starts, capacity);
      this.ends = grow(this.ends, capacity);
      this.stamps = grow(this.stamps, capacity);
      const sorted = new Uint8Array(capacity);
      sorted.set(this.sorted);
      this.sorted = sorted;
    }
    if (this.poolLength + count > this.pool.length) {
      const next = new Uint32Array(Math.max(this.pool.length * 2, this.poolLength + count));
      next.set(this.pool.subarray(0, this.poolLength));
      this.pool = next;
    }
    this.pool.set(this.scratch.subarray(0, count), this.poolLength);
    this.starts[doc] = this.poolLength;
    this.poolLength += count;
    this.ends[doc] = this.poolLength;
    this.sorted[doc] = this.scratchSorted ? 1 : 0;
    const { bandKeys } = this.signer as MinHashSignature;
    const bands = bandKeys.length;
    // Doubling once is not enough when a text has more bands than the tables hold.
    while ((this.slotCount + bands) * 2 > this.slotKeys.length) this.rehash();
    if (this.entryCount + bands > this.entryDocs.length) {
      let capacity = this.entryDocs.length * 2;
      while (capacity < this.entryCount + bands) capacity *= 2;
      this.entryDocs = grow(this.entryDocs, capacity);
      this.entryNext = grow(this.entryNext, capacity);
    }
    const mask = this.slotKeys.length - 1;
    for (let band = 0; band < bands; band++) {
      const key = bandKeys[band] as number;
      let slot = key & mask;
      while (this.slotHeads[slot] !== EMPTY && this.slotKeys[slot] !== key) slot = (slot + 1) & mask;
      const entry = this.entryCount++;
      this.entryDocs[entry] = doc;
      if (this.slotHeads[slot] === EMPTY) {
        this.slotKeys[slot] = key;
        this.slotCount++;
        this.entryNext[entry] = EMPTY;
      } else {
        this.entryNext[entry] = this.slotHeads[slot] as number;
      }
      this.slotHeads[slot] = entry;
    }
  }

  private rehash(): void {
    const oldKeys = this.slotKeys;
    const oldHeads = this.slotHeads;
    const capacity = oldKeys.length * 2;
    this.slotKeys = new Int32Array(capacity);
    this.slotHeads = new Int32Array(capacity).fill(EMPTY);
    const mask = capacity - 1;
    for (let i = 0; i < oldKeys.length; i++) {
      const head = oldHeads[i] as number;
      if (head === EMPTY) continue;
      const key = oldKeys[i] as number;
      let slot = key & mask;
      while (this.slotHeads[slot] !== EMPTY) slot = (slot + 1) & mask;
      this.slotKeys[slot] = key;
      this.slotHeads[slot] = head;
    }
  }
}

function grow(array: Int32Array, capacity: number): Int32Array<ArrayBuffer> {
  const next = new Int32Array(capacity);
  next.set(array);
  return next;
}
