/** Options of {@link Tokenizer.encode}. */
export interface EncodeOptions {
  /** Put the begin-of-sequence token first. @default false */
  addBos?: boolean;
  /** Put the end-of-sequence token last. @default false */
  addEos?: boolean;
}

/** Options of {@link Tokenizer.decode}. */
export interface DecodeOptions {
  /** Leave out PAD, BOS and EOS (and stop at the first EOS). @default true */
  skipSpecial?: boolean;
}

/** The JSON form of a tokenizer, as written into checkpoints; `type` names the class. */
export interface TokenizerJson {
  /** Which tokenizer: `"char"` or `"byte"`. */
  type: string;
  /** Format version of this JSON. */
  version: number;
  /** Tokenizer-specific fields. */
  [key: string]: unknown;
}

/**
 * Turns text into token ids and back. Every id is in `[0, vocabSize)`; `padId`, `bosId` and `eosId` are
 * distinct special tokens that never come out of `encode` unless asked for.
 */
export interface Tokenizer {
  /** Number of distinct token ids, special tokens included. */
  readonly vocabSize: number;
  /** Id of the padding token. */
  readonly padId: number;
  /** Id of the begin-of-sequence token. */
  readonly bosId: number;
  /** Id of the end-of-sequence token. */
  readonly eosId: number;
  /** Encodes `text` into token ids. */
  encode(text: string, options?: EncodeOptions): number[];
  /** Decodes token ids into text. */
  decode(ids: ReadonlyArray<number>, options?: DecodeOptions): string;
  /** The JSON form, readable by {@link tokenizerFromJSON}. */
  toJSON(): TokenizerJson;
}
