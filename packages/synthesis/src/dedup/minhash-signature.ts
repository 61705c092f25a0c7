import { SeededRandom } from "@orbiter/types";
import { mix32 } from "../internal/hash.js";
import type { LshParameters } from "./lsh-parameters.js";

/**
 * How MinHash signatures are computed. `"one-permutation"`: each shingle is hashed once into one of the
 * signature's bins and the bin keeps its minimum; empty bins borrow from another bin chosen by a fixed hash
 * sequence (one permutation hashing with optimal densification, Shrivastava 2017) — every bin still
 * collides with probability equal to the Jaccard similarity, at a cost independent of the signature length.
 * `"independent"`: the classic scheme, one universal hash per signature value (cost shingles × values).
 */
export type MinHashMethod = "one-permutation" | "independent";

/** Donor bins listed per empty bin; after them the bins are scanned in order (a rare case). */
const DONORS = 16;

/**
 * Computes the MinHash signature of a set of shingle fingerprints and its LSH band keys, with buffers reused
 * from one text to the next. The hash functions are drawn from `seed`, so equal fingerprints give equal keys.
 */
export class MinHashSignature {
  /** The signature of the last text signed (`bands × rows` values). */
  readonly signature: Uint32Array;
  /** One key per LSH band of that signature. */
  readonly bandKeys: Int32Array;
  readonly #lsh: LshParameters;
  readonly #hashing: MinHashMethod;
  // MinHash functions h(x) = a·x + c mod 2^32 with odd a, applied to mixed shingle fingerprints.
  readonly #multipliers: Int32Array;
  readonly #addends: Int32Array;
  readonly #valueSeed: number;
  readonly #filled: Uint8Array;
  /** For one permutation hashing: donor bins to try, in order, for each bin left empty (`bins × DONORS`). */
  readonly #donors: Int32Array;

  constructor(lsh: LshParameters, hashing: MinHashMethod, seed: number) {
    this.#lsh = lsh;
    this.#hashing = hashing;
    const hashes = lsh.bands * lsh.rows;
    const random = new SeededRandom(seed);
    this.#multipliers = new Int32Array(hashes);
    this.#addends = new Int32Array(hashes);
    for (let i = 0; i < hashes; i++) {
      this.#multipliers[i] = random.int32() | 1;
      this.#addends[i] = random.int32();
    }
    this.#valueSeed = random.int32();
    this.#filled = new Uint8Array(hashes);
    this.#donors = new Int32Array(hashes * DONORS);
    for (let bin = 0; bin < hashes; bin++) {
      for (let attempt = 0; attempt < DONORS; attempt++) {
        this.#donors[bin * DONORS + attempt] = random.integer(0, hashes - 1);
      }
    }
    this.signature = new Uint32Array(hashes);
    this.bandKeys = new Int32Array(lsh.bands);
  }

  /** Signs `fingerprints[0, count)`: fills {@link signature} and {@link bandKeys}. */
  sign(fingerprints: Uint32Array, count: number): void {
    if (this.#hashing === "independent") this.#independent(fingerprints, count);
    else this.#onePermutation(fingerprints, count);
    const { signature, bandKeys } = this;
    const { bands, rows } = this.#lsh;
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
  #independent(scratch: Uint32Array, count: number): void {
    const multipliers = this.#multipliers;
    const addends = this.#addends;
    const { signature } = this;
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
  #onePermutation(scratch: Uint32Array, count: number): void {
    const { signature } = this;
    const filled = this.#filled;
    const valueSeed = this.#valueSeed;
    const donors = this.#donors;
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
}
