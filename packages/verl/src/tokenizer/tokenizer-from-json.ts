import { InvalidArgumentError } from "@orbiter/types";
import { ByteTokenizer } from "./byte-tokenizer.js";
import { CharTokenizer } from "./char-tokenizer.js";
import type { Tokenizer } from "./tokenizer.js";

/**
 * Rebuilds a tokenizer from its JSON form (`tokenizer.toJSON()`), whatever its type.
 *
 * @example
 * ```ts
 * const copy = tokenizerFromJSON(JSON.parse(JSON.stringify(tokenizer.toJSON())));
 * ```
 */
export function tokenizerFromJSON(json: unknown): Tokenizer {
  const type = json !== null && typeof json === "object" ? (json as { type?: unknown }).type : undefined;
  if (type === "char") return CharTokenizer.fromJSON(json);
  if (type === "byte") return ByteTokenizer.fromJSON(json);
  throw new InvalidArgumentError(
    `Unknown tokenizer type ${JSON.stringify(type)} (expected "char" or "byte")`,
    {
      field: "tokenizer.type",
      value: type,
    },
  );
}
