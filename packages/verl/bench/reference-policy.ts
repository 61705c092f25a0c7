import { CharTokenizer, SeededRandom, TransformerPolicy } from "./imports.js";

/** The reference workload's tokenizer: 60 printable characters + PAD/BOS/EOS/UNK = V 64. */
export function referenceTokenizer(): CharTokenizer {
  return new CharTokenizer(Array.from({ length: 60 }, (_, i) => String.fromCharCode(33 + i)));
}

/** The reference workload's policy (d 128, 4 heads, 2 blocks, MLP 512, T 64, V 64; ~0.42 M parameters). */
export function referencePolicy(options: { valueHead?: boolean } = {}): TransformerPolicy {
  return new TransformerPolicy({
    tokenizer: referenceTokenizer(),
    config: { valueHead: options.valueHead ?? false },
    seed: 1,
  });
}

/** `count` rows of `length` random non-special token ids (4..63), seeded. */
export function randomTokenRows(count: number, length: number, seed: number): number[][] {
  const rng = new SeededRandom(seed);
  return Array.from({ length: count }, () => Array.from({ length }, () => rng.integer(4, 63)));
}
