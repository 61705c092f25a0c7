import { mkdir, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { JsonlSink, TrajectoryDataset, TrajectoryStrategy } from "@orbiter/trajectory";
import { deriveSeed, SeededRandom, type TrajectoryItem, type TrajectoryItemInput } from "@orbiter/types";
import { type DemoContext, elapsedSince, formatPercent } from "../demo-context.js";
import type { CaptureResult } from "../demo-results.js";
import { saveResult } from "../result-files.js";
import { ScriptedAgent } from "../scripted-agent.js";
import { sampleProblems, scoreCall } from "../task.js";

/**
 * The capture strategy: drops steps where the agent gave no answer (nothing to learn from) and labels the rest
 * with their outcome, so that later phases can select the good trajectories.
 */
export class VerifiedCallStrategy extends TrajectoryStrategy {
  shouldCapture(item: TrajectoryItem): boolean {
    return item.action.trim() !== "";
  }

  process(item: TrajectoryItem): TrajectoryItemInput {
    const correct = item.reward >= 1;
    return { ...item, status: correct ? "success" : "failure", metadata: { ...item.metadata, correct } };
  }
}

/**
 * Phase 1: the scripted agent answers requests; every step is captured through the strategy into a dataset
 * backed by a durable JSON Lines sink, then exported to JSON, JSON Lines and CSV, and each file is read back.
 */
export async function runCapture(context: DemoContext): Promise<CaptureResult> {
  const started = performance.now();
  const { options, paths } = context;
  const files = paths.datasets;
  await mkdir(dirname(files.sink), { recursive: true });
  await rm(files.sink, { force: true });
  const sink = new JsonlSink(files.sink, { fsync: "batch", batchSize: 64 });
  const dataset = new TrajectoryDataset({ strategy: new VerifiedCallStrategy(), sink });
  const agent = new ScriptedAgent({ skill: 0.6, timeoutRate: 0.05 });
  const rng = new SeededRandom(deriveSeed(options.seed, "capture"));
  const problems = sampleProblems(options.episodes, rng.fork());
  const mistakes: Record<string, number> = {};
  const progress = context.progress("capture");
  progress.start(problems.length);
  try {
    problems.forEach((problem, index) => {
      const answer = agent.act(problem, rng);
      if (answer.mistake !== undefined) mistakes[answer.mistake] = (mistakes[answer.mistake] ?? 0) + 1;
      dataset.capture({
        id: `episode-${String(index).padStart(4, "0")}`,
        state: problem.request,
        action: answer.action,
        reward: scoreCall(answer.action, problem.call),
        taskId: "travel-tool-call",
        agentId: "scripted-agent",
        episodeId: `episode-${String(index).padStart(4, "0")}`,
        step: 0,
        metadata: { origin: "agent", problem: problem.key },
      });
      progress.update(index + 1, { kept: dataset.length });
    });
  } finally {
    progress.stop();
    await dataset.close();
  }
  const json = await dataset.exportJson(files.json);
  const jsonl = await dataset.exportJsonl(files.jsonl);
  const csv = await dataset.exportCsv(files.csv);
  const reimported = {
    sink: (await TrajectoryDataset.fromJsonl(files.sink)).length,
    json: (await TrajectoryDataset.fromJson(files.json)).length,
    jsonl: (await TrajectoryDataset.fromJsonl(files.jsonl)).length,
    csv: (await TrajectoryDataset.fromCsv(files.csv)).length,
  };
  const correct = dataset.items.filter((item) => item.status === "success").length;
  const meanReward = dataset.items.reduce((sum, item) => sum + item.reward, 0) / Math.max(1, dataset.length);
  context.log(
    `capture: the scripted agent answered ${problems.length} requests, ${dataset.length} trajectories kept ` +
      `(${problems.length - dataset.length} time-outs dropped by the strategy), ${formatPercent(correct / Math.max(1, dataset.length))} right; ` +
      `exported JSON/JSONL/CSV and read back ${reimported.json}/${reimported.jsonl}/${reimported.csv} items ` +
      `(sink: ${reimported.sink})`,
  );
  const result: CaptureResult = {
    phase: "capture",
    backend: context.backend,
    durationMs: elapsedSince(started),
    episodes: problems.length,
    captured: dataset.length,
    correct,
    meanReward,
    mistakes,
    reimported,
    bytes: { json: json.bytes, jsonl: jsonl.bytes, csv: csv.bytes },
  };
  await saveResult(paths, result);
  return result;
}
