import { describe, expect, it } from "vitest";
import { SeededRandom } from "./seeded-random.js";
import { SeededRandomState } from "./seeded-random-state.js";

describe("SeededRandomState", () => {
  it("accepts a generator's state after a JSON round trip and continues the same sequence", () => {
    const rng = new SeededRandom(11);
    rng.normal(); // leaves a spare normal deviate in the state
    const state = SeededRandomState.parse(JSON.parse(JSON.stringify(rng.getState())));
    expect(state.spareNormal).not.toBeNull();
    const restored = SeededRandom.fromState(state);
    expect([restored.next(), restored.normal()]).toEqual([rng.next(), rng.normal()]);
  });

  it.each([
    [{ algorithm: "mulberry32", words: [1, 2, 3, 4], spareNormal: null }, "algorithm"],
    [{ algorithm: "xoroshiro128plus", words: [1, 2, 3], spareNormal: null }, "words"],
    [{ algorithm: "xoroshiro128plus", words: [1, 2, 3, 4.5], spareNormal: null }, "words"],
    [{ algorithm: "xoroshiro128plus", words: [1, 2, 3, 4] }, "spareNormal"],
    [{ algorithm: "xoroshiro128plus", words: [1, 2, 3, 4], spareNormal: null, extra: 1 }, ""],
  ])("refuses %j at %s", (input, field) => {
    const parsed = SeededRandomState.safeParse(input);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path[0] ?? "").toBe(field);
  });
});
