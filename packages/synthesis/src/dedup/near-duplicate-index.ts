import { InvalidArgumentError, SeededRandom } from "@orbiter/types";
import { mix32 } from "../internal/hash.js";
import { chooseLshParameters, type LshParameters } from "./lsh-parameters.js";
import { exactShingleJaccard, fingerprintJaccard, rawShingleFingerprints, sortUnique } from "./shingles.js";

/**
 * How MinHash signatures are computed. `"one-permutation"`: each shingle is hashed once into one of the
 * signature's bins and the bin keeps its minimum; empty bins borrow from another bin chosen by a fixed hash
 * sequence (one permutation hashing with optimal densification, Shrivastava 2017) — every bin still
 * collides with probability equal to the Jaccard similarity, at a cost independent of the signature length.
 * `"independent"`: the classic scheme, one universal hash per signature value (cost shingles × values).
 */
export type MinHashMethod = "one-permutation" | "independent";

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
/** Donor bins listed per empty bin; after them the bins are scanned in order (a rare case). */
const DONORS = 16;

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
  // MinHash functions h(x) = a·x + c mod 2^32 with odd a, applied to mixed shingle fingerprints.
  private readonly multipliers: Int32Array = new Int32Array(0);
  private readonly addends: Int32Array = new Int32Array(0);
  private readonly valueSeed: number = 0;
  private readonly signature: Uint32Array = new Uint32Array(0);
  private readonly filled: Uint8Array = new Uint8Array(0);
  /** For one permutation hashing: donor bins to try, in order, for each bin left empty (`bins × DONORS`). */
  private readonly donors: Int32Array = new Int32Array(0);
  private readonly bandKeys: Int32Array = new Int32Array(0);
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
      return;
    }
    this.exact = undefined;
    if (threshold === 0) {
      this.lsh = undefined;
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
    const hashes = this.lsh.bands * this.lsh.rows;
    const random = new SeededRandom(seed);
    this.multipliers = new Int32Array(hashes);
    this.addends = new Int32Array(hashes);
    for (let i = 0; i < hashes; i++) {
      this.multipliers[i] = random.int32() | 1;
      this.addends[i] = random.int32();
    }
    this.valueSeed = random.int32();
    this.filled = new Uint8Array(hashes);
    this.donors = new Int32Array(hashes * DONORS);
    for (let bin = 0; bin < hashes; bin++) {
      for (let attempt = 0; attempt < DONORS; attempt++) {
        this.donors[bin * DONORS + attempt] = random.integer(0, hashes - 1);
      }
    }
    this.signature = new Uint32Array(hashes);
    this.bandKeys = new Int32Array(this.lsh.bands);
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
    this.computeSignature();
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

  private computeSignature(): void {
    if (this.hashing === "independent") this.independentSignature();
    else this.onePermutationSignature();
    const { signature, bandKeys } = this;
    const { bands, rows } = this.lsh as LshParameters;
    for (let band = 0; band < bands; band++) {
      let key = Math.imul(band + 1, 0x9e3779b9);
      const offset = band * rows;
      for (let r = 0; r < rows; r++) {
        key = Math.imul(key ^ (signature[offset + r] as number), 0x01000193);
        key ^= key >>> 15;
      }
      bandKeys[band] = mix32(key) | 0;
    }
  }

  /** Classic MinHash: value `h` is the minimum of `a_h · x + c_h mod 2^32` over the fingerprints `x`. */
  private independentSignature(): void {
    const { multipliers, addends, signature, scratch, scratchCount: count } = this;
    const hashes = signature.length;
    for (let h = 0; h < hashes; h++) {
      const a = multipliers[h] as number;
      const c = addends[h] as number;
      let min = 0xffffffff;
      for (let j = 0; j < count; j++) {
        const value = (Math.imul(scratch[j] as number, a) + c) >>> 0;
        if (value < min) min = value;
      }
      signature[h] = min;
    }
  }

  /**
   * One permutation hashing: a fingerprint `x` goes to bin `⌊x · bins / 2^32⌋` with value
   * `mix32(x ⊕ seed)`, each bin keeps its minimum, and an empty bin takes the value of the first non-empty
   * bin of its fixed donor list (optimal densification). Values are a bijection of fingerprints, so equal
   * values in a bin always come from the same shingle.
   */
  private onePermutationSignature(): void {
    const { signature, filled, scratch, scratchCount: count, valueSeed, donors } = this;
    const bins = signature.length;
    const scale = bins / 4294967296;
    signature.fill(0xffffffff);
    filled.fill(0);
    for (let j = 0; j < count; j++) {
      const x = scratch[j] as number;
      const bin = Math.floor(x * scale);
      const value = mix32(x ^ valueSeed);
      if (value < (signature[bin] as number)) signature[bin] = value;
      filled[bin] = 1;
    }
    if (count === 0) return;
    for (let bin = 0; bin < bins; bin++) {
      if (filled[bin] === 1) continue;
      let donor = -1;
      for (let attempt = 0; attempt < DONORS && donor < 0; attempt++) {
        const candidate = donors[bin * DONORS + attempt] as number;
        if (filled[candidate] === 1) donor = candidate;
      }
      for (let offset = 1; donor < 0; offset++) {
        const candidate = (bin + offset) % bins;
        if (filled[candidate] === 1) donor = candidate;
      }
      // A borrowed value cannot equal another bin's own value: values are a bijection of fingerprints,
      // and each fingerprint has one bin. So bins collide only through the same donor and shingle.
      signature[bin] = signature[donor] as number;
    }
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
    const { bandKeys, slotKeys, slotHeads, entryDocs, entryNext, starts, threshold } = this;
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
    const bands = this.bandKeys.length;
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
      const key = this.bandKeys[band] as number;
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
