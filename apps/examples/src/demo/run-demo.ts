import { mkdir, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { type BackendName, initBackend } from "@orbiter/verl";
import { DEMO_PHASES, type DemoOptions, type DemoPhase } from "./cli.js";
import { createContext, type DemoContext, type DemoOutput, elapsedSince } from "./demo-context.js";
import { type DemoPaths, demoPaths } from "./demo-paths.js";
import type { DemoResults, PhaseResult } from "./demo-results.js";
import { applyFma, describeFma, type FmaSetting } from "./fma-setting.js";
import { runCapture } from "./phases/capture.js";
import { runEvolution } from "./phases/evolution.js";
import { runRl } from "./phases/rl.js";
import { runSft } from "./phases/sft.js";
import { runSynthesis } from "./phases/synthesis.js";
import { type WrittenReport, writeReport } from "./report.js";
import { loadResults, writeJson } from "./result-files.js";
import { formatSummary, type Verdict, verdict } from "./summary.js";

/** The function that runs each phase. */
export const PHASE_RUNNERS: Record<DemoPhase, (context: DemoContext) => Promise<PhaseResult>> = {
  capture: runCapture,
  synthesis: runSynthesis,
  sft: runSft,
  evolution: runEvolution,
  rl: runRl,
};

/** What {@link runDemo} returns. */
export interface DemoRun {
  /** The tensor backend used. */
  backend: BackendName;
  /** Fused multiply-adds in the wasm kernels: what was asked, by whom, and whether they are on. */
  fma: FmaSetting;
  /** Wall time of this run in milliseconds. */
  totalMs: number;
  /** The phases this run executed. */
  phases: DemoPhase[];
  /** Every phase result in the output folder (earlier runs' included when a phase ran alone). */
  results: DemoResults;
  /** Where everything was written. */
  paths: DemoPaths;
  /** The HTML report and its charts. */
  report: WrittenReport;
  /** The summary printed at the end. */
  summary: string;
  /** Whether RL clearly improved held-out accuracy (when the RL phase has run). */
  verdict: Verdict | undefined;
}

/**
 * Runs the demo: the chosen phase (or all of them in order), then writes `summary.json` and `report.html` in the
 * output folder and prints the summary.
 *
 * @example
 * ```ts
 * const { options } = parseDemoArgs(["--quick", "--out", "/tmp/demo"]) as { help: false; options: DemoOptions };
 * const run = await runDemo(options);
 * console.log(run.report.path, run.results.rl?.grpo.test.accuracy);
 * ```
 */
export async function runDemo(options: DemoOptions, output: DemoOutput = {}): Promise<DemoRun> {
  const started = performance.now();
  // Before the backend and any model: the kernels and the trainers' worker threads read the setting in force.
  const fma = applyFma(options.fma);
  const backend = await initBackend({ backend: options.backend });
  const paths = demoPaths(options.out);
  const phases: DemoPhase[] = options.phase === "all" ? [...DEMO_PHASES] : [options.phase];
  if (options.phase === "all") await rm(dirname(paths.result("capture")), { recursive: true, force: true });
  await mkdir(paths.root, { recursive: true });
  const context = createContext(options, paths, backend, output);
  context.log(
    `orbiter-train demo: ${phases.join(" -> ")} | backend ${backend}, ${describeFma(fma, backend)} | seed ${options.seed}${options.quick ? " | quick sizes" : ""} | output ${paths.root}`,
  );
  for (const phase of phases) await PHASE_RUNNERS[phase](context);
  const results = await loadResults(paths);
  const totalMs = elapsedSince(started);
  const info = { backend, fma, totalMs, seed: options.seed };
  await writeJson(paths.summary, { ...info, phases, options, results });
  const report = await writeReport(paths, results, info);
  const summary = formatSummary(results, info);
  context.log(summary);
  context.log(`\nReport: ${paths.report}`);
  return { backend, fma, totalMs, phases, results, paths, report, summary, verdict: verdict(results) };
}
