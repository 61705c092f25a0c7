/**
 * Benchmarks of @orbiter/trajectory on 1,000,000 SAR items of about 700 bytes (override with BENCH_ITEMS).
 *
 * Prints one JSON object per measurement (CONTRIBUTING.md) and writes them to bench-results/trajectory.jsonl;
 * progress lines start with "#" (on stderr). Temporary files go under os.tmpdir() and are deleted.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { TrajectoryItem, type TrajectoryItemInput } from "@orbiter/types";
import { BenchReporter, type Measurement } from "../../../scripts/bench-reporter.js";
import { TrajectoryDataset } from "../src/index.js";

setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;

const PACKAGE = "@orbiter/trajectory";
const COUNT = Number(process.env.BENCH_ITEMS ?? 1_000_000);
const reporter = new BenchReporter(PACKAGE, "trajectory");
const report = (measurement: Measurement) => reporter.report(measurement);
const progress = (message: string) => reporter.log(message);

const WORDS = (
  "the agent calls search with a query about python decorators then reads the result and answers the user " +
  "who asked how to cache a function call in a web service while keeping memory bounded under load"
).split(" ");

/** A deterministic, unique, flat string of `length` characters. */
function text(seed: number, length: number): string {
  let out = `${seed}:`;
  let state = seed * 2654435761;
  while (out.length < length) {
    state = (state * 1103515245 + 12345) % 2147483648;
    out += `${WORDS[state % WORDS.length]} `;
  }
  // A flat string, as one read from a socket or a file would be: `+=` builds a rope of small pieces, which
  // would make the data far bigger than ~700 bytes per item and be flattened (mutated) by the first export.
  return JSON.parse(JSON.stringify(out.slice(0, length))) as string;
}

/** A SAR item of about 700 bytes once exported (id and timestamp are filled in by capture). */
function makeInput(index: number): TrajectoryItemInput {
  return {
    state: text(index, 300),
    action: text(index * 7 + 1, 110),
    reward: ((index * 37) % 200) / 100 - 1,
    taskId: `task-${index % 5000}`,
    agentId: "agent-planner",
    episodeId: `episode-${Math.floor(index / 8)}`,
    step: index % 8,
    status: index % 11 === 0 ? "failure" : "success",
    metadata: { tool: "search", latencyMs: index % 997, tokens: 120 + (index % 50), cached: index % 3 === 0 },
  };
}

function rate(count: number, milliseconds: number): number {
  if (milliseconds <= 0) return 0;
  return Math.round((count / milliseconds) * 1000);
}

interface Timing<T> {
  result: T;
  /** Wall-clock milliseconds. */
  ms: number;
  /** CPU milliseconds of this process (all threads, GC helpers included). */
  cpuMs: number;
  /** Highest resident set size seen while it ran, in bytes. */
  peakRss: number;
}

/** Runs `work` after a full collection, timing it and sampling the resident set size every 2 ms. */
async function timed<T>(work: () => T | Promise<T>): Promise<Timing<T>> {
  collectGarbage();
  let peakRss = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  }, 2);
  const cpu = process.cpuUsage();
  const started = performance.now();
  try {
    const result = await work();
    const ms = performance.now() - started;
    const used = process.cpuUsage(cpu);
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
    return { result, ms, cpuMs: (used.user + used.system) / 1000, peakRss };
  } finally {
    clearInterval(timer);
  }
}

/** Rate fields: the wall-clock rate (what the target is checked against) and the rate per CPU second. */
function rates(
  count: number,
  timing: Timing<unknown>,
): { value: number; perCpuSecond: number; seconds: number } {
  return {
    value: rate(count, timing.ms),
    perCpuSecond: rate(count, timing.cpuMs),
    seconds: Math.round(timing.ms) / 1000,
  };
}

async function main(): Promise<void> {
  const directory = await mkdtemp(join(tmpdir(), "orbiter-trajectory-bench-"));
  try {
    progress(`generating ${COUNT} inputs`);
    let inputs: TrajectoryItemInput[] | undefined = Array.from({ length: COUNT }, (_, index) =>
      makeInput(index),
    );

    // Warm-up on separate items so the JIT has seen the hot paths.
    const warm = new TrajectoryDataset();
    for (let index = 0; index < 50_000; index++) warm.capture(makeInput(COUNT + index));
    await warm.exportJsonl(join(directory, "warm.jsonl"));
    await TrajectoryDataset.fromJsonl(join(directory, "warm.jsonl"));
    await warm.exportCsv(join(directory, "warm.csv"));
    warm.clear();

    // Reference: what capture would cost with zod instead of the fast path (parse and keep every item).
    const referenceCount = Math.min(COUNT, 200_000);
    const reference = await timed(() => {
      const kept: TrajectoryItem[] = [];
      for (let index = 0; index < referenceCount; index++) kept.push(TrajectoryItem.parse(inputs?.[index]));
      return kept.length;
    });
    report({ name: "capture-with-zod-reference", unit: "items/s", ...rates(referenceCount, reference) });

    progress("capture");
    const dataset = new TrajectoryDataset();
    const capture = await timed(() => {
      const source = inputs as TrajectoryItemInput[];
      for (let index = 0; index < COUNT; index++) dataset.capture(source[index] as TrajectoryItemInput);
    });
    report({ name: "capture", unit: "items/s", target: 500_000, comparison: ">=", ...rates(COUNT, capture) });
    inputs = undefined;

    // Memory growth of each export above the collected baseline before it: buffers and garbage, not data.
    const growths: Record<string, number> = {};
    const growth = (format: string, timing: Timing<unknown>, before: number) => {
      growths[`${format}MB`] = Math.round(((timing.peakRss - before) / 2 ** 20) * 10) / 10;
    };

    progress("export JSONL");
    const jsonlPath = join(directory, "items.jsonl");
    collectGarbage();
    let before = process.memoryUsage.rss();
    const jsonl = await timed(() => dataset.exportJsonl(jsonlPath));
    growth("jsonl", jsonl, before);
    report({
      name: "export-jsonl",
      unit: "records/s",
      target: 200_000,
      comparison: ">=",
      ...rates(COUNT, jsonl),
      bytesPerRecord: Math.round(jsonl.result.bytes / COUNT),
      megabytes: Math.round(jsonl.result.bytes / 1e6),
    });

    progress("export CSV");
    const csvPath = join(directory, "items.csv");
    collectGarbage();
    before = process.memoryUsage.rss();
    const csv = await timed(() => dataset.exportCsv(csvPath));
    growth("csv", csv, before);
    report({
      name: "export-csv",
      unit: "records/s",
      target: 100_000,
      comparison: ">=",
      ...rates(COUNT, csv),
      megabytes: Math.round(csv.result.bytes / 1e6),
    });

    progress("export JSON");
    const jsonPath = join(directory, "items.json");
    collectGarbage();
    before = process.memoryUsage.rss();
    const json = await timed(() => dataset.exportJson(jsonPath));
    growth("json", json, before);
    report({ name: "export-json", unit: "records/s", ...rates(COUNT, json) });

    report({
      name: "export-rss-growth",
      value: Math.max(...Object.values(growths)),
      unit: "MB",
      target: 100,
      comparison: "<",
      datasetRssMB: Math.round(process.memoryUsage.rss() / 2 ** 20),
      ...growths,
    });

    progress("import JSONL");
    dataset.clear();
    const imported = await timed(() => TrajectoryDataset.fromJsonl(jsonlPath));
    if (imported.result.length !== COUNT)
      throw new Error(`imported ${imported.result.length} of ${COUNT} items`);
    report({
      name: "import-jsonl",
      unit: "records/s",
      target: 150_000,
      comparison: ">=",
      ...rates(COUNT, imported),
    });
    imported.result.clear();

    await rm(jsonlPath);

    progress("import JSON");
    const importedJson = await timed(() => TrajectoryDataset.fromJson(jsonPath));
    if (importedJson.result.length !== COUNT)
      throw new Error(`imported ${importedJson.result.length} of ${COUNT}`);
    report({ name: "import-json", unit: "records/s", ...rates(COUNT, importedJson) });
    importedJson.result.clear();
    await rm(jsonPath);
    const importedCsv = await timed(() => TrajectoryDataset.fromCsv(csvPath));
    if (importedCsv.result.length !== COUNT)
      throw new Error(`imported ${importedCsv.result.length} of ${COUNT}`);
    report({ name: "import-csv", unit: "records/s", ...rates(COUNT, importedCsv) });
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
  reporter.save();
}

await main();
