import { mkdir } from "node:fs/promises";
import { join, relative } from "node:path";
import { type MetricsLogRecord, readMetricsLog } from "@orbiter/trainer-core";
import { writeFileAtomic } from "@orbiter/types";
import { pathExists } from "../command-line.js";
import { type CurvePoint, renderLineChart } from "./charts.js";
import { formatDuration, formatPercent } from "./demo-context.js";
import type { DemoPaths } from "./demo-paths.js";
import type { DemoResults, Evaluation } from "./demo-results.js";
import { FAILURE_CLASS_TITLES, FAILURE_CLASSES } from "./failure-classes.js";
import { bestOnValidation, FINAL_CHOICE_RULE, finalCheckpointName } from "./final-checkpoint.js";
import { describeFma, type FmaSetting } from "./fma-setting.js";
import { failureRows, scoreRows, timingRows, verdict } from "./summary.js";

/** One chart of the report. */
export interface ReportChart {
  /** File name stem (`rl-reward` → `charts/rl-reward.svg`). */
  name: string;
  title: string;
  /** The SVG document. */
  svg: string;
  /** Where it was saved. */
  path: string;
}

/** What {@link writeReport} wrote. */
export interface WrittenReport {
  /** The HTML file. */
  path: string;
  charts: ReportChart[];
}

async function stepRecords(path: string): Promise<MetricsLogRecord[]> {
  if (!(await pathExists(path))) return [];
  return (await readMetricsLog(path)).filter((record) => record.kind === "step");
}

function curve(
  records: ReadonlyArray<MetricsLogRecord>,
  series: string,
  pick: (record: MetricsLogRecord) => number | null | undefined,
): CurvePoint[] {
  const points: CurvePoint[] = [];
  for (const record of records) {
    const value = pick(record);
    if (typeof value === "number" && Number.isFinite(value))
      points.push({ step: record.step, value, series });
  }
  return points;
}

/** Draws the report's charts from the metrics logs and the evolution result, and saves each as an SVG file. */
export async function renderCharts(paths: DemoPaths, results: DemoResults): Promise<ReportChart[]> {
  const sft = await stepRecords(paths.metrics.sft);
  const grpo = await stepRecords(paths.metrics.grpo);
  const ppo = results.rl?.ppo ? await stepRecords(paths.metrics.ppo) : [];
  const specs: Array<{ name: string; title: string; yLabel: string; points: CurvePoint[] }> = [
    {
      name: "rl-reward",
      title: "RL: mean verifier reward of sampled answers",
      yLabel: "reward",
      points: [...curve(grpo, "grpo", (r) => r.reward), ...curve(ppo, "ppo", (r) => r.reward)],
    },
    {
      name: "rl-loss",
      title: "RL: policy loss",
      yLabel: "loss",
      points: [...curve(grpo, "grpo", (r) => r.loss), ...curve(ppo, "ppo", (r) => r.loss)],
    },
    {
      name: "rl-kl",
      title: "RL: KL divergence to the warm start (reference)",
      yLabel: "KL",
      points: [
        ...curve(grpo, "grpo", (r) => r.extra["actor/reference_kl"]),
        ...curve(ppo, "ppo", (r) => r.extra["actor/reference_kl"]),
      ],
    },
    {
      name: "sft-loss",
      title: "SFT: cross-entropy per answer token",
      yLabel: "loss",
      points: curve(sft, "sft", (r) => r.loss),
    },
    {
      name: "evolution",
      title: "Evolution: validation accuracy of each short GRPO run",
      yLabel: "accuracy",
      points: (results.evolution?.candidates ?? []).map((candidate, index) => ({
        step: index + 1,
        value: candidate.accuracy,
        series: `generation ${candidate.generation}`,
      })),
    },
  ];
  await mkdir(paths.charts, { recursive: true });
  const charts: ReportChart[] = [];
  for (const spec of specs) {
    if (spec.points.length === 0) continue;
    const svg = await renderLineChart(spec.points, { title: spec.title, yLabel: spec.yLabel });
    const path = join(paths.charts, `${spec.name}.svg`);
    await writeFileAtomic(path, svg);
    charts.push({ name: spec.name, title: spec.title, svg, path });
  }
  return charts;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Makes the ids of an inline SVG unique in the page (several charts share vega's generated ids). */
function scopeSvgIds(svg: string, prefix: string): string {
  return svg
    .replace(/\bid="([^"]+)"/g, (_, id: string) => `id="${prefix}-${id}"`)
    .replace(/url\(#([^)]+)\)/g, (_, id: string) => `url(#${prefix}-${id})`)
    .replace(/href="#([^"]+)"/g, (_, id: string) => `href="#${prefix}-${id}"`);
}

function examplesTable(before: Evaluation, after: Evaluation, afterName: string): string {
  const rows = before.examples.map((example, i) => {
    const later = after.examples[i];
    const cell = (answer: string, correct: boolean, turns: number, toolCalls: number) =>
      `<td class="${correct ? "ok" : "bad"}"><code>${escapeHtml(answer || "(empty)")}</code><br><small>${turns} turns, ${toolCalls} tool calls</small></td>`;
    return `<tr><td>${escapeHtml(example.request)}</td><td><code>${escapeHtml(example.expected)}</code></td>${cell(
      example.answer,
      example.correct,
      example.turns ?? 0,
      example.toolCalls ?? 0,
    )}${later ? cell(later.answer, later.correct, later.turns ?? 0, later.toolCalls ?? 0) : "<td></td>"}</tr>`;
  });
  return `<table><thead><tr><th>held-out request</th><th>right answer</th><th>after SFT</th><th>${escapeHtml(
    afterName,
  )}</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

/** The first few transcripts before and after RL, side by side. */
function transcripts(before: Evaluation, after: Evaluation, afterName: string, count = 3): string {
  const block = (lines: ReadonlyArray<string> | undefined) =>
    `<pre>${escapeHtml((lines ?? []).join("\n") || "(no transcript)")}</pre>`;
  const rows = before.examples.slice(0, count).map((example, i) => {
    const later = after.examples[i];
    return `<tr><td>${block(example.transcript)}</td><td>${later ? block(later.transcript) : ""}</td></tr>`;
  });
  return `<table id="transcripts"><thead><tr><th>after SFT</th><th>${escapeHtml(afterName)}</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

/** Builds the HTML report (summary tables, inline SVG charts, examples, links to every artefact). */
export function reportHtml(
  paths: DemoPaths,
  results: DemoResults,
  charts: ReadonlyArray<ReportChart>,
  info: { backend: string; fma: FmaSetting; totalMs: number; seed: number; generatedAt: string },
): string {
  const link = (path: string, label = relative(paths.root, path)) =>
    `<a href="${escapeHtml(relative(paths.root, path).split("\\").join("/"))}">${escapeHtml(label)}</a>`;
  const scores = scoreRows(results)
    .map((row) => {
      const delta =
        row.deltaAccuracy === undefined
          ? ""
          : ` <span class="${row.deltaAccuracy > 0 ? "ok" : "bad"}">(${row.deltaAccuracy >= 0 ? "+" : ""}${(100 * row.deltaAccuracy).toFixed(1)})</span>`;
      return `<tr><td>${escapeHtml(row.policy)}</td><td>${formatPercent(row.accuracy)}${delta}</td><td>${row.reward.toFixed(3)}</td><td>${row.turns.toFixed(2)}</td><td>${row.toolCalls.toFixed(2)}</td></tr>`;
    })
    .join("");
  const failureTable = failureRows(results)
    .map(
      (row) =>
        `<tr><td>${escapeHtml(row.policy)}</td>${FAILURE_CLASSES.map((name) => `<td>${row.failures[name]}</td>`).join("")}</tr>`,
    )
    .join("");
  const timings = timingRows(results)
    .map(
      (row) =>
        `<tr><td>${escapeHtml(row.phase)}</td><td>${formatDuration(row.durationMs)}</td><td>${escapeHtml(row.detail)}</td></tr>`,
    )
    .join("");
  const conclusion = verdict(results);
  const chartHtml = charts
    .map(
      (chart) =>
        `<figure id="chart-${chart.name}">${scopeSvgIds(chart.svg, chart.name)}<figcaption>${escapeHtml(chart.title)} — ${link(
          chart.path,
          `charts/${chart.name}.svg`,
        )}</figcaption></figure>`,
    )
    .join("\n");
  const { rl, sft, capture, synthesis, evolution } = results;
  // The RL run the examples show: the better one on validation, which is the final one unless the warm start was
  // kept.
  const finalRun = rl ? bestOnValidation(rl.grpo, rl.ppo) : undefined;
  const afterName = finalRun ? `after ${finalRun.algorithm.toUpperCase()}` : "";
  const examples = sft && finalRun ? examplesTable(sft.test, finalRun.test, afterName) : "";
  const transcriptTable = sft && finalRun ? transcripts(sft.test, finalRun.test, afterName) : "";
  const data: string[] = [];
  if (capture) {
    const mistakes = Object.entries(capture.mistakes)
      .map(([kind, count]) => `${count} ${kind}`)
      .join(", ");
    data.push(
      `<li>Capture: the travel agent (official <code>openai</code> SDK) ran ${capture.episodes} episodes against the scripted teacher through the recording gateway (${capture.calls ?? 0} model calls recorded), ${capture.captured} episodes kept, ${capture.correct} of them right (mean reward ${capture.meanReward.toFixed(3)}); the teacher's mistakes: ${escapeHtml(mistakes || "none")}. Exported to JSON (${capture.bytes.json} bytes), JSONL (${capture.bytes.jsonl}) and CSV (${capture.bytes.csv}), each read back: ${capture.reimported.json}/${capture.reimported.jsonl}/${capture.reimported.csv} items; the durable sink holds ${capture.reimported.sink}.</li>`,
    );
  }
  if (synthesis) {
    const origins = Object.entries(synthesis.byOrigin)
      .map(([origin, count]) => `${count} ${origin}`)
      .join(", ");
    data.push(
      `<li>Synthesis: ${synthesis.seedKept} of ${synthesis.seedGiven} trajectories kept as seed, ${synthesis.generated} new samples generated and ${synthesis.accepted} accepted; ${synthesis.belowScore} dropped by the verifier score, ${synthesis.duplicates} near-duplicates removed. Kept: ${escapeHtml(origins)}. Split ${synthesis.splits.train} train / ${synthesis.splits.validation} validation / ${synthesis.splits.test} test, grouped by call.</li>`,
    );
  }
  if (sft) {
    data.push(
      `<li>SFT: a ${sft.parameters.toLocaleString("en-US")}-parameter transformer, ${sft.epochs} epochs (${sft.steps} steps) on ${sft.samples} verified multi-turn episodes (assistant tokens only), ${sft.fromAgent} of them the teacher's recorded episodes; last-epoch loss ${sft.loss.toFixed(3)}, token accuracy ${formatPercent(sft.tokenAccuracy)}.</li>`,
    );
  }
  const files: string[] = [];
  if (capture) {
    files.push(
      `<li>Captured trajectories: ${link(paths.datasets.json)}, ${link(paths.datasets.jsonl)}, ${link(paths.datasets.csv)}; durable sink ${link(paths.datasets.sink)}</li>`,
    );
  }
  if (synthesis) {
    files.push(
      `<li>Synthesised data: ${link(paths.datasets.synthesized)}; splits ${link(paths.datasets.train)}, ${link(paths.datasets.validation)}, ${link(paths.datasets.test)}</li>`,
    );
  }
  const logs = [
    sft ? link(paths.metrics.sft) : "",
    rl ? link(paths.metrics.grpo) : "",
    rl?.ppo ? link(paths.metrics.ppo) : "",
  ].filter((entry) => entry !== "");
  if (logs.length > 0)
    files.push(`<li>Metrics logs (one JSON line per optimiser step): ${logs.join(", ")}</li>`);
  if (sft) files.push(`<li>Warm-start checkpoint: ${link(paths.checkpoints.sft)}</li>`);
  if (rl) {
    files.push(
      `<li>Final checkpoint (${finalCheckpointName(rl.final)}, ${FINAL_CHOICE_RULE}${rl.final === "sft" ? ": neither RL run reached its validation accuracy" : ""}): ${link(paths.checkpoints.final)}; also ${link(paths.checkpoints.grpo)}${rl.ppo ? `, ${link(paths.checkpoints.ppo)}` : ""}</li>`,
    );
  }
  files.push(`<li>Every number of this page: ${link(paths.summary)}</li>`);
  const settings = rl
    ? `<p>RL settings (${rl.settingsSource === "evolution" ? "chosen by evolution on the validation split" : "defaults"}): learning rate ${rl.grpo.settings.learningRate.toExponential(2)}, KL coefficient ${rl.grpo.settings.klCoef.toFixed(3)}, temperature ${rl.grpo.settings.temperature.toFixed(2)}.</p>`
    : evolution
      ? `<p>Best RL settings found: learning rate ${evolution.best.learningRate.toExponential(2)}, KL coefficient ${evolution.best.klCoef.toFixed(3)}, temperature ${evolution.best.temperature.toFixed(2)}.</p>`
      : "";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>orbiter-train demo report</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 980px; margin: 2rem auto; padding: 0 1rem; color: #1d232a; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; }
th, td { border-bottom: 1px solid #dde2e8; padding: 0.3rem 0.8rem; text-align: left; vertical-align: top; }
th { background: #f3f5f8; }
.ok { color: #1a7f37; } .bad { color: #b42318; }
.verdict { font-size: 1.1rem; padding: 0.8rem 1rem; border-radius: 6px; background: #f3f5f8; }
figure { margin: 1rem 0 2rem; } figcaption { font-size: 0.9rem; color: #555; }
code { font-size: 0.95em; }
</style>
</head>
<body>
<h1>orbiter-train demo: a tool-using travel agent</h1>
<p>Backend <strong>${escapeHtml(info.backend)}</strong> (${escapeHtml(describeFma(info.fma, info.backend))}), seed ${info.seed}, total time ${formatDuration(info.totalMs)}, generated ${escapeHtml(info.generatedAt)}.
A travel assistant written with the official <code>openai</code> SDK answers requests such as <code>is it raining in Oslo?</code>:
it calls a tool (<code>weather({"city":"Oslo"})</code>) of a small in-process world, reads the result and answers
(<code>Oslo: rain, 12C</code>). Task success means the final answer is exactly right. The same agent code ran against a scripted
teacher (capture) and, through the trainer's gateway, against the policy being trained. The held-out test split holds only
calls that never appear in training.</p>
${conclusion ? `<p class="verdict ${conclusion.improved ? "ok" : "bad"}" id="verdict">${escapeHtml(conclusion.text)}</p>` : ""}
<h2>Held-out test: before → after</h2>
<table id="scores"><thead><tr><th>policy</th><th>task success</th><th>mean reward</th><th>turns / episode</th><th>tool calls / episode</th></tr></thead><tbody>${scores}</tbody></table>
${settings}
${
  failureTable
    ? `<h2>What RL fixes: how the held-out episodes end</h2>
<p>Each greedy test episode in one class: the exact answer; the right tool call whose result was then miscopied; the right tool for another city; another tool; no call or a malformed one.</p>
<table id="failures"><thead><tr><th>checkpoint</th>${FAILURE_CLASSES.map((name) => `<th>${escapeHtml(FAILURE_CLASS_TITLES[name])}</th>`).join("")}</tr></thead><tbody>${failureTable}</tbody></table>`
    : ""
}
<h2>Phases</h2>
<table id="timings"><thead><tr><th>phase</th><th>time</th><th>what happened</th></tr></thead><tbody>${timings}</tbody></table>
${data.length > 0 ? `<h2>Data</h2>\n<ul id="data">${data.join("\n")}</ul>` : ""}
<h2>Curves</h2>
${chartHtml}
${examples ? `<h2>Examples from the test split</h2>\n${examples}` : ""}
${transcriptTable ? `<h2>Transcripts before and after RL</h2>\n${transcriptTable}` : ""}
<h2>Files</h2>
<ul>${files.join("\n")}</ul>
</body>
</html>
`;
}

/** Draws the charts and writes `report.html` in the output folder. */
export async function writeReport(
  paths: DemoPaths,
  results: DemoResults,
  info: { backend: string; fma: FmaSetting; totalMs: number; seed: number },
): Promise<WrittenReport> {
  const charts = await renderCharts(paths, results);
  const html = reportHtml(paths, results, charts, { ...info, generatedAt: new Date().toISOString() });
  await mkdir(paths.root, { recursive: true });
  await writeFileAtomic(paths.report, html);
  return { path: paths.report, charts };
}
