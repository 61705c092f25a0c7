import { mkdir, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { startGateway } from "@orbiter/gateway";
import { TrajectoryDataset, TrajectoryStrategy } from "@orbiter/trajectory";
import { deriveSeed, SeededRandom, type TrajectoryItem, type TrajectoryItemInput } from "@orbiter/types";
import { episodeMessages } from "@orbiter/verl";
import { type DemoContext, elapsedSince, formatPercent } from "../demo-context.js";
import type { CaptureResult } from "../demo-results.js";
import { firstCallOf, scoreMessages } from "../evaluation.js";
import { saveResult } from "../result-files.js";
import { sampleProblems } from "../task.js";
import { TeacherModel } from "../teacher-model.js";
import { travelAgent } from "../travel-agent.js";

/** Share of the teacher's calls that are right (the rest are its mistakes). */
export const TEACHER_SKILL = 0.75;

/**
 * The capture strategy: drops episodes that ended without an answer (nothing to learn from) and labels the rest
 * with their outcome, so that later phases can select the good ones.
 */
export class VerifiedEpisodeStrategy extends TrajectoryStrategy {
  shouldCapture(item: TrajectoryItem): boolean {
    return item.action.trim() !== "";
  }

  process(item: TrajectoryItem): TrajectoryItemInput {
    const correct = item.reward >= 1;
    return { ...item, status: correct ? "success" : "failure", metadata: { ...item.metadata, correct } };
  }
}

/**
 * Phase 1: the travel agent (the official `openai` SDK calling tools in a small world) runs on user requests
 * against the scripted teacher, through the recording gateway: every model call lands in the gateway's durable
 * JSON Lines file, one trajectory item per call. Each episode (its whole conversation, final answer and verifier
 * score) is captured through the strategy, exported to JSON, JSON Lines and CSV, and every file is read back.
 */
export async function runCapture(context: DemoContext): Promise<CaptureResult> {
  const started = performance.now();
  const { options, paths } = context;
  const files = paths.datasets;
  await mkdir(dirname(files.sink), { recursive: true });
  await rm(files.sink, { force: true });
  const teacher = new TeacherModel({ seed: deriveSeed(options.seed, "teacher"), skill: TEACHER_SKILL });
  const gateway = await startGateway({ model: teacher, out: files.sink });
  const dataset = new TrajectoryDataset({ strategy: new VerifiedEpisodeStrategy() });
  const rng = new SeededRandom(deriveSeed(options.seed, "capture"));
  const problems = sampleProblems(options.episodes, rng.fork());
  const progress = context.progress("capture");
  progress.start(problems.length);
  let calls = 0;
  try {
    // One episode at a time, so that the teacher's seeded mistakes repeat from run to run.
    for (const [index, problem] of problems.entries()) {
      const id = `episode-${String(index).padStart(4, "0")}`;
      let answer = "";
      try {
        answer = await travelAgent(
          { input: problem.request },
          { baseURL: `${gateway.url}/rollouts/${id}/v1`, apiKey: "unused", model: "teacher" },
        );
      } catch {
        // A failed episode is captured without an answer (and dropped by the strategy).
      }
      const episode = await gateway.endEpisode(id);
      const messages = episodeMessages(episode?.calls ?? []);
      calls += episode?.calls.length ?? 0;
      dataset.capture({
        id,
        state: problem.request,
        action: answer,
        reward: scoreMessages(problem.request, answer, messages),
        taskId: "travel-assistant",
        agentId: "travel-agent",
        episodeId: id,
        step: Math.max(0, (episode?.calls.length ?? 1) - 1),
        messages,
        metadata: {
          origin: "agent",
          problem: problem.key,
          call: firstCallOf(messages),
          turns: episode?.calls.length ?? 0,
        },
      });
      progress.update(index + 1, { kept: dataset.length });
    }
  } finally {
    progress.stop();
    await gateway.close();
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
  const mistakes = Object.fromEntries(Object.entries(teacher.mistakes).filter(([, count]) => count > 0));
  context.log(
    `capture: the travel agent ran ${problems.length} episodes against the scripted teacher through the gateway ` +
      `(${calls} model calls recorded), ${dataset.length} kept, ${formatPercent(correct / Math.max(1, dataset.length))} right; ` +
      `exported JSON/JSONL/CSV and read back ${reimported.json}/${reimported.jsonl}/${reimported.csv} episodes ` +
      `(gateway record: ${reimported.sink} calls)`,
  );
  const result: CaptureResult = {
    phase: "capture",
    backend: context.backend,
    durationMs: elapsedSince(started),
    episodes: problems.length,
    captured: dataset.length,
    calls,
    correct,
    meanReward,
    mistakes,
    reimported,
    bytes: { json: json.bytes, jsonl: jsonl.bytes, csv: csv.bytes },
  };
  await saveResult(paths, result);
  return result;
}
