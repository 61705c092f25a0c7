import { formatDuration, formatPercent } from "./demo-context.js";
import type { DemoResults, Evaluation } from "./demo-results.js";
import {
  FAILURE_CLASS_TITLES,
  FAILURE_CLASSES,
  type FailureClass,
  type FailureCounts,
} from "./failure-classes.js";
import { FINAL_CHOICE_RULE, finalCheckpointName, finalRlRun } from "./final-checkpoint.js";
import { describeFma, type FmaSetting } from "./fma-setting.js";

/** Held-out accuracy must rise by at least this much (absolute) for the demo to call the improvement clear. */
export const CLEAR_IMPROVEMENT = 0.05;

/** The gain of held-out task success over the SFT start that the demo aims for (issue target: 30 points). */
export const TARGET_IMPROVEMENT = 0.3;

/** One row of the before → after table. */
export interface ScoreRow {
  policy: string;
  accuracy: number;
  reward: number;
  /** Mean assistant turns per episode. */
  turns: number;
  /** Mean tool calls per episode. */
  toolCalls: number;
  /** Change of accuracy against the warm start (after SFT), for the RL rows. */
  deltaAccuracy?: number;
}

/** One row of the failure-class table: how the held-out episodes of one checkpoint ended. */
export interface FailureRow {
  policy: string;
  failures: FailureCounts;
}

/** One row of the timing table. */
export interface TimingRow {
  phase: string;
  durationMs: number;
  detail: string;
}

/** What the demo concludes about RL, in one plain sentence, and whether it clearly helped. */
export interface Verdict {
  improved: boolean;
  text: string;
}

/** The before → after rows on the held-out test split. */
export function scoreRows(results: DemoResults): ScoreRow[] {
  const rows: ScoreRow[] = [];
  const { sft, rl } = results;
  const row = (policy: string, evaluation: Evaluation, base?: Evaluation): ScoreRow => ({
    policy,
    accuracy: evaluation.accuracy,
    reward: evaluation.reward,
    turns: evaluation.meanTurns ?? 0,
    toolCalls: evaluation.meanToolCalls ?? 0,
    ...(base === undefined ? {} : { deltaAccuracy: evaluation.accuracy - base.accuracy }),
  });
  if (sft) rows.push(row("untrained policy", sft.untrained), row("after SFT (RL warm start)", sft.test));
  if (rl) {
    rows.push(row(`after GRPO (${rl.grpo.steps} steps)`, rl.grpo.test, rl.before));
    if (rl.ppo) rows.push(row(`after PPO (${rl.ppo.steps} steps)`, rl.ppo.test, rl.before));
  }
  return rows;
}

/** How the held-out episodes ended after SFT and after each RL run (evaluations without classes are left out). */
export function failureRows(results: DemoResults): FailureRow[] {
  const rows: FailureRow[] = [];
  const { sft, rl } = results;
  const add = (policy: string, evaluation: Evaluation | undefined) => {
    if (evaluation?.failures !== undefined) rows.push({ policy, failures: evaluation.failures });
  };
  add("after SFT", sft?.test);
  if (rl) {
    add("after GRPO", rl.grpo.test);
    add("after PPO", rl.ppo?.test);
  }
  return rows;
}

/** Time and outcome of every phase that ran. */
export function timingRows(results: DemoResults): TimingRow[] {
  const rows: TimingRow[] = [];
  const { capture, synthesis, sft, evolution, rl } = results;
  if (capture) {
    rows.push({
      phase: "capture",
      durationMs: capture.durationMs,
      detail: `${capture.captured} episodes (${capture.calls ?? 0} model calls), teacher right ${formatPercent(capture.correct / Math.max(1, capture.captured))}`,
    });
  }
  if (synthesis) {
    const kept = synthesis.splits.train + synthesis.splits.validation + synthesis.splits.test;
    rows.push({
      phase: "synthesis",
      durationMs: synthesis.durationMs,
      detail: `${kept} samples -> ${synthesis.splits.train}/${synthesis.splits.validation}/${synthesis.splits.test} train/val/test`,
    });
  }
  if (sft) {
    rows.push({
      phase: "sft",
      durationMs: sft.durationMs,
      detail: `${sft.steps} steps on ${sft.samples} verified episodes, loss ${sft.loss.toFixed(3)}`,
    });
  }
  if (evolution) {
    const best = evolution.best;
    rows.push({
      phase: "evolution",
      durationMs: evolution.durationMs,
      detail: `${evolution.evaluations} short runs; lr ${best.learningRate.toExponential(1)}, kl ${best.klCoef.toFixed(3)}, T ${best.temperature.toFixed(2)}`,
    });
  }
  if (rl) {
    rows.push({
      phase: "grpo",
      durationMs: rl.grpo.durationMs,
      detail: `${rl.grpo.steps} steps x ${rl.grpo.batchSize} requests x ${rl.grpo.groupSize} episodes, ${Math.round(rl.grpo.meanStepMs)} ms/step`,
    });
    if (rl.ppo) {
      rows.push({
        phase: "ppo",
        durationMs: rl.ppo.durationMs,
        detail: `${rl.ppo.steps} steps x ${rl.ppo.batchSize} episodes, critic + GAE, ${Math.round(rl.ppo.meanStepMs)} ms/step`,
      });
    }
  }
  return rows;
}

/** The evaluations of the final checkpoint the RL phase kept. */
function finalEvaluations(results: DemoResults): { name: string; test: Evaluation } | undefined {
  const { rl } = results;
  if (!rl) return undefined;
  return { name: finalCheckpointName(rl.final), test: finalRlRun(rl)?.test ?? rl.before };
}

/**
 * Whether RL clearly raised held-out accuracy over the warm start, said plainly: the best RL run against the warm
 * start, the +30-point target (and, when the warm start is above 70%, that the target cannot be reached from it),
 * and which checkpoint the demo keeps.
 */
export function verdict(results: DemoResults): Verdict | undefined {
  const { rl } = results;
  if (!rl) return undefined;
  const runs = [rl.grpo, ...(rl.ppo ? [rl.ppo] : [])];
  const best = runs.reduce((a, b) => (b.test.accuracy > a.test.accuracy ? b : a));
  const start = rl.before.accuracy;
  const gain = best.test.accuracy - start;
  const improved = gain >= CLEAR_IMPROVEMENT;
  const name = best.algorithm.toUpperCase();
  const points = (value: number) => `${value >= 0 ? "+" : "-"}${Math.abs(100 * value).toFixed(1)} points`;
  const targetPoints = (100 * TARGET_IMPROVEMENT).toFixed(0);
  const target =
    gain >= TARGET_IMPROVEMENT
      ? ` That meets the target of +${targetPoints} points.`
      : start + TARGET_IMPROVEMENT > 1
        ? ` The target of +${targetPoints} points is out of reach from this warm start by construction: SFT already reaches ${formatPercent(start)}, and +${targetPoints} would need ${formatPercent(start + TARGET_IMPROVEMENT)}.`
        : ` That is short of the target of +${targetPoints} points.`;
  const text = improved
    ? `RL helped: ${name} raised held-out task success from ${formatPercent(start)} to ${formatPercent(best.test.accuracy)} (${points(gain)}) on ${best.test.samples} requests never seen in training.${target}`
    : `RL did NOT clearly help in this run: the best held-out task success after RL is ${formatPercent(best.test.accuracy)} (${name}, ${points(gain)}) against ${formatPercent(start)} after SFT (a clear gain is at least ${(100 * CLEAR_IMPROVEMENT).toFixed(0)} points).${target}`;
  const final = finalEvaluations(results);
  const kept =
    final === undefined
      ? ""
      : ` The demo keeps ${final.name} as its final policy (${FINAL_CHOICE_RULE}): ${formatPercent(final.test.accuracy)} held-out task success.`;
  return { improved, text: text + kept };
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + " ".repeat(width - text.length);
}

/** The summary printed at the end of a run: before → after on the test split, and the time of every phase. */
export function formatSummary(
  results: DemoResults,
  info: { backend: string; fma: FmaSetting; totalMs: number; seed: number },
): string {
  const lines: string[] = [];
  lines.push("");
  lines.push(
    `Summary — backend ${info.backend} (${describeFma(info.fma, info.backend)}), seed ${info.seed}, total ${formatDuration(info.totalMs)}`,
  );
  const scores = scoreRows(results);
  if (scores.length > 0) {
    const test = results.sft?.test.samples ?? 0;
    lines.push("");
    lines.push(
      `  ${pad(`held-out test (${test} requests)`, 34)}${pad("task success", 20)}${pad("mean reward", 13)}turns  tool calls`,
    );
    for (const row of scores) {
      const delta =
        row.deltaAccuracy === undefined
          ? ""
          : ` (${row.deltaAccuracy >= 0 ? "+" : ""}${(100 * row.deltaAccuracy).toFixed(1)})`;
      lines.push(
        `  ${pad(row.policy, 34)}${pad(formatPercent(row.accuracy) + delta, 20)}${pad(row.reward.toFixed(3), 13)}${pad(row.turns.toFixed(2), 7)}${row.toolCalls.toFixed(2)}`,
      );
    }
  }
  const failures = failureRows(results);
  if (failures.length > 0) {
    lines.push("");
    // One line of the table: the first column, then one cell per class (the misread title is the long one).
    const line = (first: string, cell: (name: FailureClass) => string) =>
      `  ${pad(first, 20)}${FAILURE_CLASSES.map((name) => pad(cell(name), name === "misread" ? 28 : 14)).join("")}`.trimEnd();
    lines.push(line("held-out episodes", (name) => FAILURE_CLASS_TITLES[name]));
    for (const row of failures) lines.push(line(row.policy, (name) => String(row.failures[name])));
  }
  const timings = timingRows(results);
  if (timings.length > 0) {
    lines.push("");
    lines.push(`  ${pad("phase", 12)}${pad("time", 12)}what happened`);
    for (const row of timings) {
      lines.push(`  ${pad(row.phase, 12)}${pad(formatDuration(row.durationMs), 12)}${row.detail}`);
    }
  }
  const conclusion = verdict(results);
  if (conclusion) {
    lines.push("");
    lines.push(`  ${conclusion.text}`);
  }
  return lines.join("\n");
}
