import { describe, expect, it } from "vitest";
import type { Evaluation } from "../demo-results.js";
import { chooseFinal } from "./rl.js";

const at = (accuracy: number) => ({ accuracy }) as Evaluation;
const run = (accuracy: number) => ({ validation: at(accuracy) });

describe("chooseFinal", () => {
  it("keeps the RL run with the higher validation accuracy, GRPO on ties", () => {
    expect(chooseFinal(at(0.5), run(0.6), run(0.7))).toBe("ppo");
    expect(chooseFinal(at(0.5), run(0.7), run(0.6))).toBe("grpo");
    expect(chooseFinal(at(0.5), run(0.6), run(0.6))).toBe("grpo");
    expect(chooseFinal(at(0.5), run(0.6), undefined)).toBe("grpo");
  });

  it("keeps the warm start when neither RL run reaches its validation accuracy, and RL on a tie with it", () => {
    expect(chooseFinal(at(0.65), run(0.6), run(0.625))).toBe("sft");
    expect(chooseFinal(at(0.65), run(0.6), undefined)).toBe("sft");
    expect(chooseFinal(at(0.65), run(0.65), run(0.6))).toBe("grpo");
    expect(chooseFinal(at(0.65), run(0.6), run(0.65))).toBe("ppo");
  });
});
