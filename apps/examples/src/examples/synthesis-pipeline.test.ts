import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Sample } from "@orbiter/types";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main, type SynthesisPipelineExampleResult, solve, verifyAnswer } from "./synthesis-pipeline.js";

let dir: string;
let run: SynthesisPipelineExampleResult;
const lines: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "example-synthesis-pipeline-"));
  run = await main({ dir, targetSize: 120, log: (line) => lines.push(line) });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("synthesis-pipeline example", () => {
  it("reaches the target size with verified, distinct samples only", () => {
    const { result } = run;
    expect(result.reachedTarget).toBe(true);
    expect(result.stopReason).toBe("target");
    expect(result.items).toHaveLength(120);
    for (const sample of result.items) {
      expect(verifyAnswer(sample), sample.input).toBe(1);
      expect(sample.score).toBe(1);
    }
    const texts = result.items.map((sample) => `${sample.input}|${sample.output}`);
    expect(new Set(texts).size).toBe(texts.length);
  });

  it("drops the wrong and the repeated seed samples", () => {
    expect(run.result.seedCount).toBe(2);
    expect(run.result.items.slice(0, 2).map((sample) => sample.input)).toEqual([
      "What is 2 + 3?",
      "Compute 7 * 6.",
    ]);
  });

  it("accounts for every sample: generated and seed = kept + filtered + surplus", () => {
    const { result } = run;
    expect(result.filtered.belowScore).toBeGreaterThan(0);
    expect(result.filtered.duplicate).toBeGreaterThan(0);
    expect(result.filteredCount).toBe(result.filtered.belowScore + result.filtered.duplicate);
    expect(run.seedData.length + result.generatedCount).toBe(
      result.items.length + result.filteredCount + result.surplusCount,
    );
    const sum = (key: "generated" | "accepted" | "belowScore" | "duplicate") =>
      result.steps.reduce((total, step) => total + step[key], 0);
    expect(result.steps.map((step) => step.name)).toEqual(["ArithmeticSynthesiser", "word-problems"]);
    expect(sum("generated")).toBe(result.generatedCount);
    expect(sum("accepted")).toBe(result.acceptedCount);
    // The seed set lost one sample below the score and one duplicate; the steps lost the rest.
    expect(sum("belowScore")).toBe(result.filtered.belowScore - 1);
    expect(sum("duplicate")).toBe(result.filtered.duplicate - 1);
    expect(lines[0]).toBe(`Generated: ${result.generatedCount}`);
    expect(lines[1]).toMatch(new RegExp(`^Filtered: ${result.filteredCount} `));
  });

  it("writes the kept samples as JSON Lines", async () => {
    const written = (await readFile(run.path, "utf8"))
      .trimEnd()
      .split("\n")
      .map((line) => Sample.parse(JSON.parse(line)));
    expect(written).toEqual(run.result.items);
  });

  it("is reproducible from its seed", async () => {
    const again = await main({ dir: await mkdtemp(join(dir, "again-")), targetSize: 120, log: () => {} });
    expect(again.result.items).toEqual(run.result.items);
  });

  it("the verifier accepts right answers and rejects wrong ones", () => {
    const sample = (input: string, output: string) => Sample.parse({ input, output });
    expect(verifyAnswer(sample("What is 12 * 11?", String(solve(12, "*", 11))))).toBe(1);
    expect(verifyAnswer(sample("Compute 3 - 9.", "-6"))).toBe(1);
    expect(verifyAnswer(sample("Compute 3 - 9.", "6"))).toBe(0);
    expect(verifyAnswer(sample("Tell me a joke", "42"))).toBe(0);
  });
});
