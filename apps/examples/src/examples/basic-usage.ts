/**
 * The guide's "Basic Usage", "TrajectoryItem" and "TrajectoryDataset" sections: capture State-Action-Reward items
 * while an agent runs, query the dataset, and export it as JSON (and CSV) for training.
 *
 * Run it: `pnpm --filter @orbiter/examples example src/examples/basic-usage.ts`
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { type ExportSummary, TrajectoryDataset, TrajectoryItem } from "@orbiter/train";

/** Options of {@link main}. */
export interface BasicUsageOptions {
  /** Folder the exports are written to. @default a fresh folder under `os.tmpdir()` */
  dir?: string;
  /** Where the account of the run goes. @default console.log */
  log?: (line: string) => void;
}

/** What {@link main} produced. */
export interface BasicUsageResult {
  /** The folder holding the exports. */
  dir: string;
  /** The captured items, in capture order. */
  items: TrajectoryItem[];
  /** The JSON export (`training_data.json`). */
  json: ExportSummary;
  /** The CSV export (`trajectories.csv`). */
  csv: ExportSummary;
  /** The items read back from the JSON export. */
  reimported: TrajectoryItem[];
}

/**
 * Captures four items (the guide's three plus one built with `TrajectoryItem.parse`), exports them to JSON and
 * CSV, and reads the JSON back.
 */
export async function main(options: BasicUsageOptions = {}): Promise<BasicUsageResult> {
  const log = options.log ?? console.log;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), "orbiter-basic-usage-")));

  // Basic usage: collect trajectory data. `id` and `timestamp` are filled in.
  const dataset = new TrajectoryDataset();
  dataset.capture({
    state: "User asks about Python",
    action: "search(query='Python programming')",
    reward: 0.8,
  });

  // A TrajectoryItem on its own: the schema validates it and fills in the defaults.
  const item = TrajectoryItem.parse({
    state: "The user asked about Python decorators",
    action: "respond(explanation='Decorators are...')",
    reward: 0.9,
    metadata: { agent: "assistant", step: 3 },
  });
  dataset.capture(item);

  // Capture items during agent execution.
  dataset.capture({ state: "s1", action: "a1", reward: 0.7 });
  dataset.capture({ state: "s2", action: "a2", reward: 0.9 });

  log(`Captured ${dataset.length} items:`);
  for (const captured of dataset.items) {
    log(`  [${captured.reward}] ${captured.state} -> ${captured.action}`);
  }

  // Export for training.
  const json = await dataset.exportJson(join(dir, "training_data.json"));
  const csv = await dataset.exportCsv(join(dir, "trajectories.csv"));
  log(`Wrote ${json.records} items to ${json.path} (${json.bytes} bytes)`);
  log(`Wrote ${csv.records} items to ${csv.path} (${csv.bytes} bytes)`);

  const reimported = await TrajectoryDataset.fromJson(json.path);
  log(`Read ${reimported.length} items back from ${json.path}`);

  return { dir, items: [...dataset.items], json, csv, reimported: [...reimported.items] };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
