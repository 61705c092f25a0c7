import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readMetricsLog } from "@orbiter/trainer-core";
import { Sample } from "@orbiter/types";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { askedLetterShare, main, startsWithAskedLetter, type VerlExampleResult } from "./verl.js";

let dir: string;
let result: VerlExampleResult;
const lines: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "example-verl-"));
  result = await main({ dir, log: (line) => lines.push(line) });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("verl example", () => {
  it("trains with GRPO, then PPO, for one step per epoch", () => {
    expect(result.runs.map((run) => run.algorithm)).toEqual(["grpo", "ppo"]);
    for (const run of result.runs) {
      expect(run.steps.map((step) => step.step)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      expect(run.train.steps).toBe(50);
      expect(run.backend).toMatch(/^(tensorflow|wasm|cpu)$/);
      for (const step of run.steps) {
        expect(Number.isFinite(step.loss), `${run.algorithm} step ${step.step}`).toBe(true);
        expect(step.reward).toBeGreaterThanOrEqual(0);
        expect(step.reward).toBeLessThanOrEqual(1);
      }
    }
  });

  it.each([0, 1])(
    "run %i raises the reward of sampled answers well above the untrained policy's",
    (index) => {
      const run = result.runs[index];
      if (run === undefined) throw new Error("missing run");
      expect(run.after, run.algorithm).toBeGreaterThan(run.before + 0.3);
      const early = run.steps.slice(0, 5).reduce((sum, step) => sum + step.reward, 0) / 5;
      const late = run.steps.slice(-5).reduce((sum, step) => sum + step.reward, 0) / 5;
      expect(late, run.algorithm).toBeGreaterThan(early + 0.2);
      expect(run.greedy.reward, run.algorithm).toBeGreaterThan(run.before);
    },
  );

  it("reports verl's metrics and writes a metrics log per run", async () => {
    for (const run of result.runs) {
      for (const name of [
        "actor/pg_loss",
        "actor/entropy",
        "actor/reference_kl",
        "rewards/asked-letter/mean",
      ]) {
        expect(run.train.extra[name], `${run.algorithm} ${name}`).toBeTypeOf("number");
      }
      const records = await readMetricsLog(run.metricsLogPath);
      expect(records.filter((record) => record.kind === "step")).toHaveLength(50);
    }
    expect(result.runs[1]?.train.extra["critic/vf_loss"]).toBeTypeOf("number");
    expect(lines.filter((line) => line.startsWith("Loss: "))).toHaveLength(2);
  });

  it("the rewards are verifiable functions of the output", () => {
    const sample = Sample.parse({ input: "say b:", output: "", metadata: { letter: "b" } });
    expect(askedLetterShare("bb", sample)).toBe(1);
    expect(askedLetterShare("ab", sample)).toBe(0.5);
    expect(askedLetterShare("", sample)).toBe(0);
    expect(startsWithAskedLetter("ba", sample)).toBe(1);
    expect(startsWithAskedLetter("ab", sample)).toBe(0);
    expect(startsWithAskedLetter("", sample)).toBe(0);
  });
});
