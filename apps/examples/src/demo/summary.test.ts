import { describe, expect, it } from "vitest";
import type { DemoResults, Evaluation, RlPhaseResult, RlRun } from "./demo-results.js";
import { failureRows, formatSummary, verdict } from "./summary.js";

function evaluation(accuracy: number, samples = 95): Evaluation {
  const success = Math.round(accuracy * samples);
  return {
    accuracy,
    reward: accuracy,
    meanTurns: 2,
    meanToolCalls: 1,
    samples,
    failures: { success, misread: samples - success, wrongCity: 0, wrongTool: 0, noCall: 0 },
    examples: [],
  };
}

function rlRun(algorithm: "grpo" | "ppo", test: number, validation: number): RlRun {
  const settings = { learningRate: 1e-4, klCoef: 0.01, temperature: 1 };
  return {
    algorithm,
    steps: 10,
    settings,
    batchSize: 8,
    groupSize: 8,
    durationMs: 1,
    meanStepMs: 1,
    test: evaluation(test),
    validation: evaluation(validation, 48),
  };
}

function results(before: number, grpo: number, ppo: number, final: RlPhaseResult["final"]): DemoResults {
  return {
    rl: {
      phase: "rl",
      backend: "wasm",
      durationMs: 1,
      settingsSource: "defaults",
      before: evaluation(before),
      beforeValidation: evaluation(0.5, 48),
      grpo: rlRun("grpo", grpo, 0.6),
      ppo: rlRun("ppo", ppo, 0.55),
      final,
    },
  };
}

describe("the verdict", () => {
  it("says the +30 target is out of reach by construction from a warm start above 70%", () => {
    const text = verdict(results(0.832, 0.853, 0.842, "grpo"))?.text ?? "";
    expect(text).toContain("RL did NOT clearly help");
    expect(text).toContain("85.3% (GRPO, +2.1 points) against 83.2%");
    expect(text).toContain("out of reach from this warm start by construction");
    expect(text).toContain("would need 113.2%");
    expect(text).toContain("keeps GRPO as its final policy");
  });

  it("reports a loss as a negative change and names the warm start when it is kept", () => {
    const text = verdict(results(0.832, 0.8, 0.79, "sft"))?.text ?? "";
    expect(text).toContain("(GRPO, -3.2 points)");
    expect(text).toContain("keeps the SFT warm start as its final policy");
    expect(text).toContain(": 83.2% held-out task success");
  });

  it("calls a clear gain from a low start a help, short of or meeting the target", () => {
    const short = verdict(results(0.284, 0.389, 0.295, "grpo"));
    expect(short?.improved).toBe(true);
    expect(short?.text).toContain("raised held-out task success from 28.4% to 38.9% (+10.5 points)");
    expect(short?.text).toContain("short of the target of +30 points");
    expect(verdict(results(0.284, 0.6, 0.3, "grpo"))?.text).toContain("meets the target");
  });

  it("prints how the held-out episodes ended after SFT and after each RL run", () => {
    const input: DemoResults = { ...results(0.832, 0.853, 0.842, "grpo") };
    expect(failureRows(input).map((row) => [row.policy, row.failures.success])).toEqual([
      ["after GRPO", 81],
      ["after PPO", 80],
    ]);
    const fma = { mode: "on", source: "--fma", active: true } as const;
    const summary = formatSummary(input, { backend: "wasm", fma, totalMs: 1000, seed: 7 });
    expect(summary).toContain("Summary — backend wasm (fused multiply-adds on (--fma)), seed 7");
    // On a backend that runs no wasm kernel, nothing is fused, whatever was asked.
    expect(formatSummary(input, { backend: "cpu", fma, totalMs: 1000, seed: 7 })).toContain(
      "Summary — backend cpu (fused multiply-adds unused: the cpu backend runs no wasm kernels (on asked, --fma)), seed 7",
    );
    expect(summary).toMatch(/after GRPO\s+81\s+14\s+0\s+0\s+0/);
    expect(summary).toContain("right call, answer misread");
  });
});
