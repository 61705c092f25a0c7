import { SeededRandom } from "@orbiter/types";

/** A generated corpus for measuring near-duplicate detection. */
export interface NearDuplicateCorpus {
  /** The texts, originals and edited copies mixed in a seeded order. */
  texts: string[];
  /** For each text, the position of the original it was copied from, or -1 for an original. */
  copyOf: number[];
}

const SYLLABLES = [
  "ka",
  "lo",
  "mi",
  "ne",
  "su",
  "ta",
  "ri",
  "po",
  "da",
  "ve",
  "xo",
  "bu",
  "ze",
  "gi",
  "fa",
  "hu",
  "jo",
  "qu",
  "wy",
  "el",
  "an",
  "or",
  "is",
  "um",
  "ex",
  "ra",
  "st",
  "ch",
  "th",
  "io",
];

/** A pseudo-word of two to four syllables. */
function word(random: SeededRandom): string {
  const syllables = random.integer(2, 4);
  let out = "";
  for (let i = 0; i < syllables; i++) out += random.choice(SYLLABLES);
  return out;
}

/** A random text of about `length` characters made of pseudo-words. */
export function randomText(random: SeededRandom, length: number): string {
  let out = word(random);
  while (out.length < length) out += ` ${word(random)}`;
  return out;
}

/** Applies `edits` random character edits (substitute, insert, delete) to `text`. */
export function editText(random: SeededRandom, text: string, edits: number): string {
  const chars = [...text];
  for (let i = 0; i < edits; i++) {
    const position = random.integer(0, Math.max(0, chars.length - 1));
    const kind = random.integer(0, 2);
    const letter = String.fromCharCode(97 + random.integer(0, 25));
    if (kind === 0) chars[position] = letter;
    else if (kind === 1) chars.splice(position, 0, letter);
    else if (chars.length > 1) chars.splice(position, 1);
  }
  return chars.join("");
}

/**
 * Generates `count` texts of about `length` characters where a `duplicateFraction` share are copies of
 * earlier texts with a share of their characters edited drawn from `editRate` (default 1–5%).
 */
export function nearDuplicateCorpus(
  count: number,
  options: { seed: number; length?: number; duplicateFraction?: number; editRate?: [number, number] },
): NearDuplicateCorpus {
  const random = new SeededRandom(options.seed);
  const length = options.length ?? 200;
  const duplicateFraction = options.duplicateFraction ?? 0.3;
  const [minEdit, maxEdit] = options.editRate ?? [0.01, 0.05];
  const texts: string[] = [];
  const copyOf: number[] = [];
  const originals: number[] = [];
  for (let i = 0; i < count; i++) {
    if (originals.length > 0 && random.bernoulli(duplicateFraction)) {
      const source = originals[random.integer(0, originals.length - 1)] as number;
      const text = texts[source] as string;
      const edits = Math.max(1, Math.round(text.length * random.uniform(minEdit, maxEdit)));
      texts.push(editText(random, text, edits));
      copyOf.push(source);
    } else {
      originals.push(i);
      texts.push(randomText(random, length));
      copyOf.push(-1);
    }
  }
  return { texts, copyOf };
}
