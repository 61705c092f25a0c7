import { describe, expect, it } from "vitest";
import { randomUuid } from "./random-uuid.js";

describe("randomUuid", () => {
  it("gives distinct version 4 UUIDs across several pool refills", () => {
    const seen = new Set<string>();
    for (let draw = 0; draw < 5000; draw++) {
      const uuid = randomUuid();
      expect(uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      seen.add(uuid);
    }
    expect(seen.size).toBe(5000);
  });

  it("uses every hexadecimal digit in the random positions", () => {
    const digits = new Set<string>();
    for (let draw = 0; draw < 200; draw++) for (const char of randomUuid().slice(0, 8)) digits.add(char);
    expect(digits.size).toBe(16);
  });
});
