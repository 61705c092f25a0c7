import { deriveSeed, parseWith, type Sample, SeededRandom } from "@orbiter/types";
import { z } from "zod";
import { augmentedMetadata } from "../internal/augmentation-metadata.js";
import { checkSamples } from "../internal/check-samples.js";
import type { SampleLike } from "../internal/sample-like.js";
import { keyboardNeighbours } from "./keyboard-neighbours.js";

/** Options of {@link augmentAddNoise}. */
export const AddNoiseOptions = z.strictObject({
  /** Share of the words to touch, in [0, 1]. @default 0.1 */
  noiseLevel: z.number().min(0).max(1).default(0.1),
  /** Seed of the edits. @default 0 */
  seed: z.number().int().default(0),
  /** Which text to make noisy. @default "input" */
  field: z.enum(["input", "output", "both"]).default("input"),
});

/** Input form of {@link AddNoiseOptions}. */
export type AddNoiseOptions = z.input<typeof AddNoiseOptions>;

/** The kinds of edit, in the order of their numbers in {@link applyNoise}. */
type Edit = "swap" | "drop" | "duplicate" | "substitute" | "dropout";
const EDITS: Edit[] = ["swap", "drop", "duplicate", "substitute", "dropout"];

/**
 * Noisy copies of samples, for robustness: each word (whitespace-separated token) is touched with
 * probability `noiseLevel`. A touched word gets one edit chosen uniformly among: swapping two adjacent
 * characters, dropping a character, duplicating a character, substituting a keyboard neighbour (QWERTY,
 * case kept), or dropping the whole word (never the last one left). An edit that does not apply to the word
 * (a one-character word cannot be swapped) falls back to duplicating a character. Whitespace is kept.
 *
 * Copies get the id `<id>:noise`, `metadata.augmentation` gains `"noise"`, `metadata.noiseEdits` counts the
 * edits and `metadata.augmentedFrom` names the original. Scores are kept. The same seed gives the same
 * copies; sample `i` depends only on the seed, `i` and its own text.
 *
 * @example
 * ```ts
 * const noisy = augmentAddNoise(samples, { noiseLevel: 0.1, seed: 1 });
 * ```
 */
export function augmentAddNoise<T extends SampleLike>(
  data: ReadonlyArray<T>,
  options: AddNoiseOptions = {},
): Array<T & Pick<Sample, "metadata">> {
  const { noiseLevel, seed, field } = parseWith(AddNoiseOptions, options, {
    what: "augmentAddNoise options",
  });
  checkSamples(data, "data", ["input", "output"]);
  return data.map((sample, i) => {
    const random = new SeededRandom(deriveSeed(seed, "noise", i));
    let edits = 0;
    let input = sample.input;
    let output = sample.output;
    if (field !== "output") {
      const noisy = applyNoise(input, noiseLevel, random);
      input = noisy.text;
      edits += noisy.edits;
    }
    if (field !== "input") {
      const noisy = applyNoise(output, noiseLevel, random);
      output = noisy.text;
      edits += noisy.edits;
    }
    return {
      ...sample,
      ...(sample.id === undefined ? {} : { id: `${sample.id}:noise` }),
      input,
      output,
      metadata: augmentedMetadata(sample.metadata, "noise", sample.id, { noiseEdits: edits }),
    };
  });
}

/** Applies word-level noise to one text; returns the text and the number of edits made. */
export function applyNoise(
  text: string,
  level: number,
  random: SeededRandom,
): { text: string; edits: number } {
  const tokens = text.split(/(\s+)/);
  let words = 0;
  for (const token of tokens) if (token !== "" && !/^\s+$/.test(token)) words++;
  let edits = 0;
  const out: string[] = [];
  for (let t = 0; t < tokens.length; t++) {
    const token = tokens[t] as string;
    if (token === "" || /^\s+$/.test(token) || !random.bernoulli(level)) {
      out.push(token);
      continue;
    }
    const edit = EDITS[random.integer(0, EDITS.length - 1)] as Edit;
    if (edit === "dropout" && words > 1) {
      words--;
      edits++;
      // Drop the word and the whitespace after it (or before it, at the end of the text).
      if (t + 1 < tokens.length && /^\s+$/.test(tokens[t + 1] as string)) t++;
      else if (out.length > 0 && /^\s+$/.test(out[out.length - 1] as string)) out.pop();
      continue;
    }
    out.push(editWord(token, edit, random));
    edits++;
  }
  return { text: out.join(""), edits };
}

function editWord(word: string, edit: Edit, random: SeededRandom): string {
  const chars = [...word];
  const n = chars.length;
  if (edit === "swap" && n >= 2) {
    const i = random.integer(0, n - 2);
    [chars[i], chars[i + 1]] = [chars[i + 1] as string, chars[i] as string];
    // Swapping two equal characters would change nothing: duplicate one instead.
    if (chars[i] !== chars[i + 1]) return chars.join("");
  }
  if (edit === "drop" && n >= 2) {
    chars.splice(random.integer(0, n - 1), 1);
    return chars.join("");
  }
  if (edit === "substitute") {
    const i = random.integer(0, n - 1);
    const near = keyboardNeighbours().get(chars[i] as string);
    if (near) {
      chars[i] = near[random.integer(0, near.length - 1)] as string;
      return chars.join("");
    }
  }
  const i = random.integer(0, n - 1);
  chars.splice(i, 0, chars[i] as string);
  return chars.join("");
}
