import { access, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readMetricsLog } from "@orbiter/trainer-core";
import { TrajectoryDataset } from "@orbiter/trajectory";
import { InvalidStateError } from "@orbiter/types";
import { relaxedSimdAvailable, TransformerPolicy, wasmFmaActive } from "@orbiter/verl";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DemoOptions, parseDemoArgs } from "./cli.js";
import type { Evaluation } from "./demo-results.js";
import { evaluateGreedy } from "./evaluation.js";
import { chooseFinal, FINAL_CHOICE_RULE, finalCheckpointName } from "./final-checkpoint.js";
import { describeFma } from "./fma-setting.js";
import { type DemoRun, runDemo } from "./run-demo.js";
import { readSamples } from "./sample-files.js";
import { solveRequest } from "./task.js";
import { referenceAnswer } from "./travel-world.js";

/** Collects what the demo prints. */
function sink() {
  const chunks: string[] = [];
  return { write: (chunk: string) => chunks.push(chunk), isTTY: false, text: () => chunks.join("") };
}

function quickOptions(out: string, extra: string[] = []): DemoOptions {
  const parsed = parseDemoArgs(["--quick", "--out", out, "--seed", "3", ...extra]);
  if (parsed.help) throw new Error("unexpected --help");
  return parsed.options;
}

function expectEvaluation(evaluation: Evaluation, samples: number): void {
  expect(evaluation.samples).toBe(samples);
  expect(evaluation.accuracy).toBeGreaterThanOrEqual(0);
  expect(evaluation.accuracy).toBeLessThanOrEqual(1);
  expect(Number.isFinite(evaluation.reward)).toBe(true);
  expect(evaluation.examples.length).toBe(Math.min(8, samples));
  expect(evaluation.meanTurns).toBeGreaterThanOrEqual(1);
  expect(evaluation.meanToolCalls).toBeGreaterThanOrEqual(0);
  // Every episode is in exactly one class, and the successes are the accuracy.
  const classes = Object.values(evaluation.failures);
  expect(classes.reduce((sum, count) => sum + count, 0)).toBe(samples);
  expect(evaluation.failures.success).toBe(Math.round(evaluation.accuracy * samples));
  for (const example of evaluation.examples) {
    expect(example.correct).toBe(example.answer.trim() === example.expected);
    expect(example.expected).toBe(referenceAnswer(example.request));
    // The transcript starts with the request and holds one assistant line per turn.
    expect(example.transcript[0]).toBe(`user: ${example.request}`);
    expect(example.transcript.filter((line) => line.startsWith("assistant")).length).toBe(example.turns);
  }
}

let dir: string;
let run: DemoRun;
let requested: DemoOptions;
const stdout = sink();
const stderr = sink();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "orbiter-demo-"));
  requested = quickOptions(dir);
  run = await runDemo(requested, { stdout, stderr });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("pnpm demo --quick", () => {
  it("runs every phase and prints the summary with the backend", () => {
    expect(run.phases).toEqual(["capture", "synthesis", "sft", "evolution", "rl"]);
    expect(run.backend).toMatch(/^(tensorflow|wasm|cpu)$/);
    const printed = stdout.text();
    expect(printed).toContain(`backend ${run.backend}`);
    expect(printed).toContain(`backend ${run.backend}, ${describeFma(run.fma, run.backend)} | seed 3`);
    expect(printed).toContain("held-out test");
    expect(printed).toMatch(/after GRPO \(2 steps\)/);
    expect(printed).toContain(run.verdict?.text ?? "no verdict");
    expect(printed).toContain(run.paths.report);
  });

  it("shows progress as plain lines when the output is not a terminal", () => {
    const lines = stderr.text().split("\n");
    for (const label of ["capture", "synthesis", "sft", "evolution", "grpo", "ppo"]) {
      expect(
        lines.some((line) => line.startsWith(`${label}: started (`)),
        label,
      ).toBe(true);
      expect(
        lines.some((line) => line.startsWith(`${label}: done (`)),
        label,
      ).toBe(true);
    }
    expect(lines).toContain("capture: started (40)");
    expect(lines).toContain("grpo: done (2/2)");
    expect(stderr.text()).not.toContain("\x1b[");
  });

  it("records the agent's calls through the gateway and exports its episodes to JSON, JSONL and CSV", async () => {
    const capture = run.results.capture;
    expect(capture).toBeDefined();
    const files = run.paths.datasets;
    const json = await TrajectoryDataset.fromJson(files.json);
    const jsonl = await TrajectoryDataset.fromJsonl(files.jsonl);
    const csv = await TrajectoryDataset.fromCsv(files.csv);
    for (const dataset of [json, jsonl, csv]) expect(dataset.length).toBe(capture?.captured);
    expect(csv.items.map((item) => item.action)).toEqual(json.items.map((item) => item.action));
    // The gateway's record: one item per model call, grouped by episode, each with the request and the reply.
    const calls = await TrajectoryDataset.fromJsonl(files.sink);
    expect(calls.length).toBe(capture?.calls);
    expect(capture?.calls).toBeGreaterThan(capture?.episodes ?? 0);
    const episodes = new Set(calls.items.map((item) => item.episodeId));
    expect(episodes.size).toBe(capture?.episodes);
    for (const item of calls.items) expect(item.messages?.at(-1)?.role).toBe("assistant");
    // Every kept episode holds its whole conversation (request, tool call, tool result, answer) and its label.
    expect(json.items.every((item) => item.action !== "")).toBe(true);
    expect(json.items.every((item) => item.status === (item.reward >= 1 ? "success" : "failure"))).toBe(true);
    for (const item of jsonl.items.filter((entry) => entry.status === "success")) {
      expect(item.messages?.map((message) => message.role)).toEqual([
        "user",
        "assistant",
        "tool",
        "assistant",
      ]);
      expect(item.action).toBe(referenceAnswer(item.state));
    }
    expect(capture?.correct).toBe(json.items.filter((item) => item.reward >= 1).length);
    expect(Object.values(capture?.mistakes ?? {}).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  });

  it("writes verified, disjoint train / validation / test splits", async () => {
    const synthesis = run.results.synthesis;
    const train = await readSamples(run.paths.datasets.train);
    const validation = await readSamples(run.paths.datasets.validation);
    const test = await readSamples(run.paths.datasets.test);
    expect([train.length, validation.length, test.length]).toEqual([
      synthesis?.splits.train,
      synthesis?.splits.validation,
      synthesis?.splits.test,
    ]);
    expect(train.length + validation.length + test.length).toBe(90);
    for (const sample of [...train, ...validation, ...test]) {
      const call = solveRequest(sample.input);
      expect(call && `${call.tool}(${call.city})`, sample.input).toBe(sample.output);
    }
    const trainCalls = new Set(train.map((sample) => sample.output));
    expect(test.some((sample) => trainCalls.has(sample.output))).toBe(false);
    expect(validation.some((sample) => trainCalls.has(sample.output))).toBe(false);
  });

  it("reports before and after accuracies that re-evaluating the saved checkpoints reproduces", async () => {
    const { sft, rl } = run.results;
    expect(sft && rl).toBeTruthy();
    if (!sft || !rl) return;
    const test = await readSamples(run.paths.datasets.test);
    expectEvaluation(sft.untrained, test.length);
    expectEvaluation(sft.test, test.length);
    expectEvaluation(rl.grpo.test, test.length);
    expect(rl.ppo).toBeDefined();
    if (rl.ppo) expectEvaluation(rl.ppo.test, test.length);
    expect(rl.before).toEqual(sft.test);
    expect(rl.final).toBe(chooseFinal(rl.beforeValidation, rl.grpo, rl.ppo));
    const finalRun =
      rl.final === "sft" ? { test: sft.test } : rl.final === "ppo" && rl.ppo ? rl.ppo : rl.grpo;
    for (const [path, expected] of [
      [run.paths.checkpoints.sft, sft.test],
      [run.paths.checkpoints.final, finalRun.test],
    ] as const) {
      const policy = await TransformerPolicy.load(path);
      try {
        const again = await evaluateGreedy(policy, test);
        expect(again.accuracy).toBe(expected.accuracy);
        expect(again.reward).toBeCloseTo(expected.reward, 10);
        expect(again.examples).toEqual(expected.examples);
      } finally {
        policy.dispose();
      }
    }
  });

  it("keeps finite numbers and phase timings in summary.json", async () => {
    const summary = JSON.parse(await readFile(run.paths.summary, "utf8"));
    expect(summary.backend).toBe(run.backend);
    // The fused-multiply-add setting asked for (the demo's "on" unless ORBITER_WASM_FMA says otherwise), set
    // before the run and still in force: on where the engine can run relaxed SIMD, off otherwise.
    expect(summary.fma).toEqual(run.fma);
    expect(summary.options.fma).toEqual(requested.fma);
    const expectActive = requested.fma.mode === "off" ? false : relaxedSimdAvailable();
    expect(run.fma).toEqual({ ...requested.fma, active: expectActive });
    expect(wasmFmaActive()).toBe(expectActive);
    expect(Object.keys(summary.results)).toEqual(["capture", "synthesis", "sft", "evolution", "rl"]);
    for (const phase of Object.values(summary.results) as Array<{ durationMs: number }>) {
      expect(phase.durationMs).toBeGreaterThanOrEqual(0);
    }
    const numbers: number[] = [];
    const collect = (value: unknown): void => {
      if (typeof value === "number") numbers.push(value);
      else if (value && typeof value === "object") Object.values(value).forEach(collect);
    };
    collect(summary);
    expect(numbers.length).toBeGreaterThan(50);
    expect(numbers.every(Number.isFinite)).toBe(true);
  });

  it("logs metrics for every optimiser step and tunes settings by evolution", async () => {
    const grpo = (await readMetricsLog(run.paths.metrics.grpo)).filter((record) => record.kind === "step");
    const sftLog = (await readMetricsLog(run.paths.metrics.sft)).filter((record) => record.kind === "step");
    expect(grpo.map((record) => record.step)).toEqual([1, 2]);
    expect(sftLog).toHaveLength(run.results.sft?.steps ?? -1);
    for (const record of grpo) expect(typeof record.extra["actor/reference_kl"]).toBe("number");
    const evolution = run.results.evolution;
    expect(evolution?.candidates.length).toBe(evolution?.evaluations);
    expect(run.results.rl?.settingsSource).toBe("evolution");
    expect(run.results.rl?.grpo.settings).toEqual(evolution?.best);
  });

  it("writes a report with inline SVG charts, saved as files too, and links to every artefact", async () => {
    const html = await readFile(run.paths.report, "utf8");
    const names = (await readdir(run.paths.charts)).sort();
    expect(names).toEqual(["evolution.svg", "rl-kl.svg", "rl-loss.svg", "rl-reward.svg", "sft-loss.svg"]);
    expect(html.match(/<svg/g)?.length).toBe(names.length);
    for (const name of names) {
      const svg = await readFile(join(run.paths.charts, name), "utf8");
      expect(svg.startsWith("<svg")).toBe(true);
      expect(html).toContain(`href="charts/${name}"`);
    }
    for (const target of [
      "datasets/trajectories.json",
      "datasets/trajectories.csv",
      "datasets/test.jsonl",
      "metrics/grpo.jsonl",
      "checkpoints/final",
      "summary.json",
    ]) {
      expect(html).toContain(`href="${target}"`);
      await access(join(dir, target));
    }
    expect(html).toContain(`Backend <strong>${run.backend}</strong> (${describeFma(run.fma, run.backend)})`);
    expect(html).toContain(`${run.results.capture?.captured} episodes kept`);
    expect(html).toMatch(/<h2>Examples from the test split<\/h2>/);
    expect(html).toMatch(/<h2>Transcripts before and after RL<\/h2>/);
    expect(html).toContain("<th>turns / episode</th>");
    expect(html).toContain(run.verdict?.text.replace(/&/g, "&amp;") ?? "no verdict");
    const final = run.results.rl?.final ?? "sft";
    expect(html).toContain(`Final checkpoint (${finalCheckpointName(final)}, ${FINAL_CHOICE_RULE}`);
    expect(run.verdict?.text).toContain(
      `keeps ${finalCheckpointName(final)} as its final policy (${FINAL_CHOICE_RULE})`,
    );
  });

  it("runs a phase alone from what earlier phases wrote, reproducibly", async () => {
    const before = run.results.rl;
    const again = await runDemo(quickOptions(dir, ["--phase", "rl"]), { stdout: sink(), stderr: sink() });
    expect(again.phases).toEqual(["rl"]);
    expect(again.results.rl?.grpo.test).toEqual(before?.grpo.test);
    expect(again.results.capture).toEqual(run.results.capture);
  });

  it("skips PPO with --ppo-steps 0 and keeps GRPO (or the warm start) as the final checkpoint", async () => {
    const grpoOnly = await runDemo(quickOptions(dir, ["--phase", "rl", "--ppo-steps", "0"]), {
      stdout: sink(),
      stderr: sink(),
    });
    expect(grpoOnly.results.rl?.ppo).toBeUndefined();
    const rl = grpoOnly.results.rl;
    expect(rl?.final).toBe(
      (rl?.grpo.validation.accuracy ?? 0) >= (rl?.beforeValidation.accuracy ?? 0) ? "grpo" : "sft",
    );
    expect(grpoOnly.summary).not.toContain("after PPO");
    const html = await readFile(grpoOnly.paths.report, "utf8");
    expect(html).not.toContain('href="metrics/ppo.jsonl"');
    await expect(access(grpoOnly.paths.metrics.ppo)).rejects.toThrow();
  });

  it("tells which phase to run first when a phase runs alone on an empty folder", async () => {
    const empty = await mkdtemp(join(tmpdir(), "orbiter-demo-empty-"));
    try {
      await expect(
        runDemo(quickOptions(empty, ["--phase", "sft"]), { stdout: sink(), stderr: sink() }),
      ).rejects.toSatisfy(
        (error) => InvalidStateError.isInstance(error) && /--phase synthesis/.test((error as Error).message),
      );
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});
