import { InvalidArgumentError, parseWith } from "@orbiter/types";
import { z } from "zod";
import type { DecodeOptions, EncodeOptions, Tokenizer, TokenizerJson } from "./tokenizer.js";

const ByteTokenizerJson = z.strictObject({ type: z.literal("byte"), version: z.literal(1) });

/**
 * An open-vocabulary tokenizer over UTF-8 bytes: ids 0..255 are the bytes, 256 is PAD, 257 BOS and 258 EOS
 * (vocabulary size 259). Any text round-trips; invalid byte sequences decode to U+FFFD.
 *
 * @example
 * ```ts
 * const tokenizer = new ByteTokenizer();
 * tokenizer.encode("hé"); // [104, 195, 169]
 * ```
 */
export class ByteTokenizer implements Tokenizer {
  readonly vocabSize = 259;
  readonly padId = 256;
  readonly bosId = 257;
  readonly eosId = 258;
  private readonly encoder = new TextEncoder();
  private readonly decoder = new TextDecoder("utf-8", { fatal: false });

  /** Reads the form written by {@link ByteTokenizer.toJSON}. */
  static fromJSON(json: unknown): ByteTokenizer {
    parseWith(ByteTokenizerJson, json, { what: "ByteTokenizer JSON", path: "tokenizer" });
    return new ByteTokenizer();
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    const out: number[] = [];
    if (options.addBos) out.push(this.bosId);
    for (const byte of this.encoder.encode(text)) out.push(byte);
    if (options.addEos) out.push(this.eosId);
    return out;
  }

  decode(ids: ReadonlyArray<number>, options: DecodeOptions = {}): string {
    const skipSpecial = options.skipSpecial ?? true;
    const bytes: number[] = [];
    let out = "";
    const flush = () => {
      if (bytes.length > 0) out += this.decoder.decode(Uint8Array.from(bytes));
      bytes.length = 0;
    };
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
        throw new InvalidArgumentError(`Token id ${id} is outside the vocabulary (${this.vocabSize})`, {
          field: "ids",
          value: id,
        });
      }
      if (id < 256) {
        bytes.push(id);
        continue;
      }
      if (skipSpecial) {
        if (id === this.eosId) break;
        continue;
      }
      flush();
      out += id === this.padId ? "<pad>" : id === this.bosId ? "<bos>" : "<eos>";
    }
    flush();
    return out;
  }

  toJSON(): TokenizerJson {
    return { type: "byte", version: 1 };
  }
}
