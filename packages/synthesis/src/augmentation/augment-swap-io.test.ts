import { describe, expect, it } from "vitest";
import { augmentSwapIo } from "./augment-swap-io.js";

describe("augmentSwapIo", () => {
  it("exchanges input and output and marks the copy (known answer)", () => {
    const data = [
      { id: "q1", input: "What is 2 + 2?", output: "4", score: 1, metadata: { augmentation: ["noise"] } },
    ];
    expect(augmentSwapIo(data)).toEqual([
      {
        id: "q1:swap",
        input: "4",
        output: "What is 2 + 2?",
        score: 1,
        metadata: { augmentation: ["noise", "swap_io"], augmentedFrom: "q1" },
      },
    ]);
    expect(augmentSwapIo(augmentSwapIo(data)).map((s) => [s.input, s.output])).toEqual([
      ["What is 2 + 2?", "4"],
    ]);
  });

  it("rejects what is not a sample, naming it", () => {
    expect(() => augmentSwapIo([{ input: "a", output: 1 }] as never)).toThrow(
      expect.objectContaining({ field: "data[0].output" }),
    );
    expect(() => augmentSwapIo("nope" as never)).toThrow(expect.objectContaining({ field: "data" }));
  });
});
