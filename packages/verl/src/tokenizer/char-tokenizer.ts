import { InvalidArgumentError, parseWith } from "@orbiter/types";
import { z } from "zod";
import type { DecodeOptions, EncodeOptions, Tokenizer, TokenizerJson } from "./tokenizer.js";

/** The special tokens of a {@link CharTokenizer}, in id order 0..3. */
export const CHAR_TOKENIZER_SPECIALS = ["<pad>", "<bos>", "<eos>", "<unk>"] as const;

const CharTokenizerJson = z.strictObject({
  type: z.literal("char"),
  version: z.literal(1),
  characters: z.array(z.string()),
});

/**
 * A character-level tokenizer: ids 0..3 are PAD, BOS, EOS and UNK, then one id per character (Unicode code
 * point) of a fixed alphabet. Characters outside the alphabet encode to UNK.
 *
 * @example
 * ```ts
 * const tokenizer = CharTokenizer.fromCorpus(["add 2 3 = 5", "add 1 1 = 2"]);
 * tokenizer.decode(tokenizer.encode("add 1 2")); // "add 1 2"
 * ```
 */
export class CharTokenizer implements Tokenizer {
  readonly padId = 0;
  readonly bosId = 1;
  readonly eosId = 2;
  /** Id of the unknown-character token. */
  readonly unkId = 3;
  /** The alphabet, in id order (the id of `characters[i]` is `i + 4`). */
  readonly characters: ReadonlyArray<string>;
  private readonly ids: Map<string, number>;

  /** @param characters the alphabet: distinct single code points, in the order their ids are given */
  constructor(characters: ReadonlyArray<string>) {
    const ids = new Map<string, number>();
    characters.forEach((character, index) => {
      if ([...character].length !== 1) {
        throw new InvalidArgumentError(
          `Each character must be one code point, got ${JSON.stringify(character)}`,
          {
            field: `characters[${index}]`,
            value: character,
          },
        );
      }
      if (ids.has(character)) {
        throw new InvalidArgumentError(`Duplicate character ${JSON.stringify(character)}`, {
          field: `characters[${index}]`,
          value: character,
        });
      }
      ids.set(character, index + CHAR_TOKENIZER_SPECIALS.length);
    });
    this.characters = [...characters];
    this.ids = ids;
  }

  /** Builds the alphabet from every character of `corpus`, sorted by code point. */
  static fromCorpus(corpus: Iterable<string>): CharTokenizer {
    const seen = new Set<string>();
    for (const text of corpus) {
      if (typeof text !== "string") {
        throw new InvalidArgumentError("Every corpus entry must be a string", {
          field: "corpus",
          value: text,
        });
      }
      for (const character of text) seen.add(character);
    }
    return new CharTokenizer([...seen].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!));
  }

  /** Reads the form written by {@link CharTokenizer.toJSON}. */
  static fromJSON(json: unknown): CharTokenizer {
    const parsed = parseWith(CharTokenizerJson, json, { what: "CharTokenizer JSON", path: "tokenizer" });
    return new CharTokenizer(parsed.characters);
  }

  get vocabSize(): number {
    return this.characters.length + CHAR_TOKENIZER_SPECIALS.length;
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    const out: number[] = [];
    if (options.addBos) out.push(this.bosId);
    for (const character of text) out.push(this.ids.get(character) ?? this.unkId);
    if (options.addEos) out.push(this.eosId);
    return out;
  }

  decode(ids: ReadonlyArray<number>, options: DecodeOptions = {}): string {
    const skipSpecial = options.skipSpecial ?? true;
    let out = "";
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0) {
        throw new InvalidArgumentError(`Invalid token id ${id}`, { field: "ids", value: id });
      }
      if (id >= CHAR_TOKENIZER_SPECIALS.length) {
        const character = this.characters[id - CHAR_TOKENIZER_SPECIALS.length];
        if (character === undefined) {
          throw new InvalidArgumentError(`Token id ${id} is outside the vocabulary (${this.vocabSize})`, {
            field: "ids",
            value: id,
          });
        }
        out += character;
      } else if (skipSpecial) {
        if (id === this.eosId) break;
        if (id === this.unkId) out += "\uFFFD";
      } else {
        out += CHAR_TOKENIZER_SPECIALS[id];
      }
    }
    return out;
  }

  toJSON(): TokenizerJson {
    return { type: "char", version: 1, characters: [...this.characters] };
  }
}
