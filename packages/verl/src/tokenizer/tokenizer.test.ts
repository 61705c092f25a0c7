import { fieldOf } from "@orbiter/test-support";
import { InvalidArgumentError } from "@orbiter/types";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ByteTokenizer } from "./byte-tokenizer.js";
import { CharTokenizer } from "./char-tokenizer.js";
import { tokenizerFromJSON } from "./tokenizer-from-json.js";

describe("CharTokenizer", () => {
  const tokenizer = CharTokenizer.fromCorpus(["hello world", "héllo 🌍"]);

  it("builds a sorted alphabet after PAD, BOS, EOS and UNK", () => {
    expect(tokenizer.characters).toEqual([" ", "d", "e", "h", "l", "o", "r", "w", "é", "🌍"]);
    expect(tokenizer.vocabSize).toBe(14);
    expect([tokenizer.padId, tokenizer.bosId, tokenizer.eosId, tokenizer.unkId]).toEqual([0, 1, 2, 3]);
    expect(tokenizer.encode("he", { addBos: true, addEos: true })).toEqual([1, 7, 6, 2]);
  });

  it("maps unknown characters to UNK and decodes them as U+FFFD", () => {
    expect(tokenizer.encode("hex")).toEqual([7, 6, 3]);
    expect(tokenizer.decode(tokenizer.encode("hex"))).toBe("he\uFFFD");
  });

  it("stops decoding at EOS and shows specials when asked", () => {
    expect(tokenizer.decode([1, 7, 6, 2, 7])).toBe("he");
    expect(tokenizer.decode([1, 7, 0], { skipSpecial: false })).toBe("<bos>h<pad>");
  });

  it("round-trips every string over its alphabet", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...tokenizer.characters)), (characters) => {
        const text = characters.join("");
        expect(tokenizer.decode(tokenizer.encode(text))).toBe(text);
      }),
    );
  });

  it("serialises to JSON and back", () => {
    const copy = tokenizerFromJSON(JSON.parse(JSON.stringify(tokenizer.toJSON())));
    expect(copy).toBeInstanceOf(CharTokenizer);
    expect(copy.encode("hello 🌍")).toEqual(tokenizer.encode("hello 🌍"));
  });

  it("rejects bad alphabets, ids and JSON with InvalidArgumentError", () => {
    expect(() => new CharTokenizer(["a", "a"])).toThrow(InvalidArgumentError);
    expect(() => new CharTokenizer(["ab"])).toThrow(/characters\[0\]|one code point/);
    expect(() => tokenizer.decode([99])).toThrow(InvalidArgumentError);
    // Negative or fractional ids are refused whether special tokens are skipped or not.
    for (const id of [-1, 2.5, 4.5]) {
      expect(() => tokenizer.decode([id]), String(id)).toThrow(InvalidArgumentError);
      expect(() => tokenizer.decode([id], { skipSpecial: false }), String(id)).toThrow(InvalidArgumentError);
    }
    expect(() => tokenizerFromJSON({ type: "char", version: 1, characters: "abc" })).toThrow(
      InvalidArgumentError,
    );
    expect(() => tokenizerFromJSON({ type: "bpe" })).toThrow(/Unknown tokenizer type/);
  });
});

describe("ByteTokenizer", () => {
  const tokenizer = new ByteTokenizer();

  it("encodes UTF-8 bytes with specials above 255", () => {
    expect(tokenizer.encode("hé", { addBos: true, addEos: true })).toEqual([257, 104, 195, 169, 258]);
    expect(tokenizer.vocabSize).toBe(259);
  });

  it("round-trips any string", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), (text) => {
        expect(tokenizer.decode(tokenizer.encode(text))).toBe(text);
      }),
    );
  });

  it("decodes invalid UTF-8 to U+FFFD and serialises", () => {
    expect(tokenizer.decode([0xff, 104])).toBe("\uFFFDh");
    expect(tokenizerFromJSON(tokenizer.toJSON())).toBeInstanceOf(ByteTokenizer);
    expect(() => tokenizer.decode([300])).toThrow(InvalidArgumentError);
  });
});

describe("tokenizerFromJSON", () => {
  const fieldOfJson = (json: unknown) => fieldOf(() => tokenizerFromJSON(json));

  it("names the offending field of a malformed tokenizer", () => {
    expect(fieldOfJson({ type: "char", version: 1, characters: ["a", 3] })).toBe("tokenizer.characters[1]");
    expect(fieldOfJson({ type: "char", version: 1 })).toBe("tokenizer.characters");
    expect(fieldOfJson({ type: "char", version: 2, characters: [] })).toBe("tokenizer.version");
    expect(fieldOfJson({ type: "byte", version: 1, extra: true })).toBe("tokenizer.extra");
    expect(fieldOfJson({ type: "byte", version: "1" })).toBe("tokenizer.version");
    expect(fieldOfJson({ type: "word" })).toBe("tokenizer.type");
  });
});
