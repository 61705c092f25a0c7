import { createHash, timingSafeEqual } from "node:crypto";

/**
 * Checks `Authorization: Bearer <key>` headers against one key in constant time (both sides are hashed first,
 * so neither the key's length nor its content leaks through timing).
 */
export class BearerAuth {
  readonly #digest: Buffer;

  constructor(key: string) {
    this.#digest = createHash("sha256").update(key).digest();
  }

  /** True when `header` is `Bearer <key>`. */
  accepts(header: string | undefined): boolean {
    if (header === undefined) return false;
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (!match) return false;
    const digest = createHash("sha256")
      .update(match[1] as string)
      .digest();
    return timingSafeEqual(digest, this.#digest);
  }
}
