import { randomFillSync } from "node:crypto";

/**
 * Random (version 4) UUIDs as flat strings.
 *
 * `crypto.randomUUID()` returns its text as a rope of about twenty concatenated pieces (a V8 cons string of
 * ~490 bytes). Kept as an item id, a million of them cost ~490 MB and slow every garbage collection until some
 * operation flattens them. This draws the same cryptographically random bytes (pooled, like Node does) and
 * writes the 36 characters into a buffer, whose `latin1` decoding is one flat 36-byte string.
 */

const POOL_UUIDS = 256;
const pool = Buffer.allocUnsafe(16 * POOL_UUIDS);
let poolOffset = pool.length;
const text = Buffer.allocUnsafe(36);
const HEX = Buffer.from("0123456789abcdef", "latin1");
const DASH = 0x2d;

/** A random RFC 9562 version 4 UUID, e.g. `"3b241101-e2bb-4255-8caf-4136c566a962"`. */
export function randomUuid(): string {
  if (poolOffset === pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  let out = 0;
  for (let index = 0; index < 16; index++) {
    let byte = pool[poolOffset + index] as number;
    if (index === 6)
      byte = (byte & 0x0f) | 0x40; // version 4
    else if (index === 8) byte = (byte & 0x3f) | 0x80; // RFC variant
    text[out++] = HEX[byte >> 4] as number;
    text[out++] = HEX[byte & 0x0f] as number;
    if (index === 3 || index === 5 || index === 7 || index === 9) text[out++] = DASH;
  }
  poolOffset += 16;
  return text.toString("latin1", 0, 36);
}
