import { describe, expect, it } from "vitest";
import type { Evaluation, RlRun } from "./demo-results.js";
import { bestOnValidation, chooseFinal, finalCheckpointName, finalRlRun } from "./final-checkpoint.js";

const at = (accuracy: number) => ({ accuracy }) as Evaluation;
const run = (accuracy: number) => ({ validation: at(accuracy) });
const trained = (algorithm: "grpo" | "ppo", validation: number) =>
  ({ algorithm, validation: at(validation), test: at(validation - 0.1) }) as RlRun;

describe("bestOnValidation", () => {
  it("returns PPO only when its validation accuracy is strictly higher, and GRPO without PPO", () => {
    const grpo = run(0.6);
    const better = run(0.7);
    const tie = run(0.6);
    expect(bestOnValidation(grpo, better)).toBe(better);
    expect(bestOnValidation(grpo, tie)).toBe(grpo);
    expect(bestOnValidation(grpo, run(0.5))).toBe(grpo);
    expect(bestOnValidation(grpo, undefined)).toBe(grpo);
  });
});

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

describe("the final checkpoint, named and looked up", () => {
  it("names it as the summary and the report print it", () => {
    expect(["sft", "grpo", "ppo"].map((final) => finalCheckpointName(final as "sft"))).toEqual([
      "the SFT warm start",
      "GRPO",
      "PPO",
    ]);
  });

  it("finds the RL run kept, or none when the warm start was kept", () => {
    const grpo = trained("grpo", 0.6);
    const ppo = trained("ppo", 0.7);
    expect(finalRlRun({ final: "ppo", grpo, ppo })).toBe(ppo);
    expect(finalRlRun({ final: "grpo", grpo, ppo })).toBe(grpo);
    expect(finalRlRun({ final: "grpo", grpo, ppo: undefined })).toBe(grpo);
    expect(finalRlRun({ final: "sft", grpo, ppo })).toBeUndefined();
  });
});
