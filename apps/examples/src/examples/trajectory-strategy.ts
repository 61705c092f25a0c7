/**
 * The guide's "TrajectoryStrategy" section, taken further: a FilteredStrategy keeps only high-reward steps and
 * clamps rewards to [0, 1]; OpenAI-style conversations (with a tool call) are captured as items; a durable
 * JsonlSink appends every kept item to disk as it is captured; the dataset is exported to JSON, JSON Lines and
 * CSV and read back; episodes are grouped and discounted returns computed.
 *
 * Run it: `pnpm --filter @orbiter/examples example src/examples/trajectory-strategy.ts`
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { isDeepStrictEqual } from "node:util";
import {
  type Episode,
  type ExportSummary,
  JsonlSink,
  TrajectoryDataset,
  TrajectoryStrategy,
} from "@orbiter/trajectory";
import type { ChatMessage, TrajectoryItem } from "@orbiter/types";

/** Only keep high-reward trajectories, with the reward clamped to [0, 1] (the guide's strategy). */
export class FilteredStrategy extends TrajectoryStrategy {
  shouldCapture(item: TrajectoryItem): boolean {
    return item.reward >= 0.5;
  }

  process(item: TrajectoryItem): TrajectoryItem {
    // Normalize reward to [0, 1]; spreading the item keeps its id, timestamp, episode and messages.
    return { ...item, reward: Math.min(1, Math.max(0, item.reward)) };
  }
}

/** One turn of a simulated support agent: the conversation so far, ending with the agent's reply. */
interface Turn {
  episodeId: string;
  step: number;
  messages: ChatMessage[];
  /** How good the reply was (a grader's score; may fall outside [0, 1]). */
  reward: number;
}

/** A weather-assistant run: each episode asks a question, calls a tool, then answers. */
function simulatedTurns(): Turn[] {
  const cities = [
    { city: "Paris", temperature: 18, rewards: { toolCall: 0.6, answer: 1.3 } },
    { city: "Oslo", temperature: -2, rewards: { toolCall: 0.9, answer: 0.4 } },
    { city: "Lima", temperature: 24, rewards: { toolCall: 0.2, answer: 0.8 } },
  ];
  const turns: Turn[] = [];
  cities.forEach(({ city, temperature, rewards }, episode) => {
    const episodeId = `episode-${episode + 1}`;
    const callId = `call_${city.toLowerCase()}`;
    const question: ChatMessage = { role: "user", content: `What's the weather in ${city}?` };
    const toolCall: ChatMessage = {
      role: "assistant",
      content: null,
      tool_calls: [
        {
          id: callId,
          type: "function",
          function: { name: "get_weather", arguments: JSON.stringify({ city }) },
        },
      ],
    };
    const toolResult: ChatMessage = {
      role: "tool",
      tool_call_id: callId,
      content: JSON.stringify({ city, temperature, unit: "celsius" }),
    };
    const answer: ChatMessage = {
      role: "assistant",
      content: `It is ${temperature}°C in ${city} right now.`,
    };
    const system: ChatMessage = { role: "system", content: "You are a helpful weather assistant." };
    turns.push({ episodeId, step: 0, messages: [system, question, toolCall], reward: rewards.toolCall });
    turns.push({
      episodeId,
      step: 1,
      messages: [system, question, toolCall, toolResult, answer],
      reward: rewards.answer,
    });
  });
  return turns;
}

/** Options of {@link main}. */
export interface TrajectoryStrategyOptions {
  /** Folder the sink file and the exports are written to. @default a fresh folder under `os.tmpdir()` */
  dir?: string;
  /** Discount factor of the returns. @default 0.9 */
  gamma?: number;
  /** Where the account of the run goes. @default console.log */
  log?: (line: string) => void;
}

/** What {@link main} produced. */
export interface TrajectoryStrategyResult {
  /** The folder holding the files. */
  dir: string;
  /** Turns offered to the dataset. */
  offered: number;
  /** The kept items, in capture order. */
  items: TrajectoryItem[];
  /** The file the JsonlSink appended to, and the items recovered from it. */
  sink: { path: string; appended: number; recovered: TrajectoryItem[] };
  /** The three exports. */
  exports: { json: ExportSummary; jsonl: ExportSummary; csv: ExportSummary };
  /** The items read back from each export. */
  reimported: { json: TrajectoryItem[]; jsonl: TrajectoryItem[]; csv: TrajectoryItem[] };
  /** The kept items grouped into episodes, ordered by step. */
  episodes: Episode[];
  /** Discounted return of each kept item, aligned with `items`. */
  returns: number[];
  /** The discount factor used. */
  gamma: number;
}

/** Captures a simulated agent run through a FilteredStrategy and a JsonlSink, then exports and re-imports it. */
export async function main(options: TrajectoryStrategyOptions = {}): Promise<TrajectoryStrategyResult> {
  const log = options.log ?? console.log;
  const gamma = options.gamma ?? 0.9;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), "orbiter-trajectory-strategy-")));

  // Every kept item is appended to this file as it is captured and forced to disk ("always"), so a crash
  // mid-run loses nothing that capture() returned.
  const sinkPath = join(dir, "run.jsonl");
  const sink = new JsonlSink(sinkPath, { fsync: "always" });
  const dataset = new TrajectoryDataset({ strategy: new FilteredStrategy(), sink });

  const turns = simulatedTurns();
  log(`Capturing ${turns.length} agent turns with FilteredStrategy (reward >= 0.5, clamped to [0, 1]):`);
  for (const turn of turns) {
    const kept = dataset.captureMessages(turn.messages, {
      reward: turn.reward,
      taskId: "weather",
      agentId: "weather-assistant",
      episodeId: turn.episodeId,
      step: turn.step,
    });
    const verdict = kept === undefined ? "dropped" : `kept with reward ${kept.reward}`;
    log(`  ${turn.episodeId} step ${turn.step}: reward ${turn.reward} -> ${verdict}`);
  }
  const [first] = dataset.items;
  if (first !== undefined) {
    log("First kept item:");
    log(`  state:  ${first.state.replaceAll("\n", "\n          ")}`);
    log(`  action: ${first.action}`);
  }
  await dataset.close();
  const { dataset: recovered } = await JsonlSink.recover(sinkPath);
  log(`The sink appended ${sink.appended} items to ${sinkPath}; ${recovered.length} read back`);

  const exports = {
    json: await dataset.exportJson(join(dir, "trajectories.json")),
    jsonl: await dataset.exportJsonl(join(dir, "trajectories.jsonl")),
    csv: await dataset.exportCsv(join(dir, "trajectories.csv")),
  };
  const reimported = {
    json: [...(await TrajectoryDataset.fromJson(exports.json.path)).items],
    jsonl: [...(await TrajectoryDataset.fromJsonl(exports.jsonl.path)).items],
    csv: [...(await TrajectoryDataset.fromCsv(exports.csv.path)).items],
  };
  for (const format of ["json", "jsonl", "csv"] as const) {
    const same = isDeepStrictEqual(reimported[format], dataset.items);
    log(
      `Exported ${exports[format].records} items to ${exports[format].path}; re-imported ${
        reimported[format].length
      } (${same ? "identical" : "DIFFERENT"})`,
    );
  }

  const episodes = dataset.episodes();
  const returns = dataset.returns({ gamma });
  log(`Episodes and discounted returns (gamma = ${gamma}):`);
  for (const episode of episodes) {
    const steps = episode.items.map((item) => {
      const index = dataset.items.indexOf(item);
      return `step ${item.step}: r=${item.reward} G=${(returns[index] as number).toFixed(3)}`;
    });
    log(`  ${episode.episodeId}: ${steps.join(", ")}`);
  }

  return {
    dir,
    offered: turns.length,
    items: [...dataset.items],
    sink: { path: sinkPath, appended: sink.appended, recovered: [...recovered.items] },
    exports,
    reimported,
    episodes,
    returns,
    gamma,
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
