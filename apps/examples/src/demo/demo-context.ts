import { ProgressReporter, type ProgressStream } from "@orbiter/trainer-core";
import type { BackendName } from "@orbiter/verl";
import type { DemoOptions } from "./cli.js";
import type { DemoPaths } from "./demo-paths.js";

/** What every phase receives. */
export interface DemoContext {
  /** The run's settings. */
  readonly options: DemoOptions;
  /** Where to write. */
  readonly paths: DemoPaths;
  /** The tensor backend in use. */
  readonly backend: BackendName;
  /** Prints one line of the run's story (what each phase did). */
  log(line: string): void;
  /** A progress display for a long step: a bar on a terminal, plain lines otherwise. */
  progress(label: string): ProgressReporter;
}

/** Where a demo run prints. */
export interface DemoOutput {
  /** Receives the story lines and the summary. @default process.stdout */
  stdout?: ProgressStream;
  /** Receives progress bars (or plain progress lines). @default process.stderr */
  stderr?: ProgressStream;
}

/** Builds the context of a run. */
export function createContext(
  options: DemoOptions,
  paths: DemoPaths,
  backend: BackendName,
  output: DemoOutput = {},
): DemoContext {
  const stdout = output.stdout ?? process.stdout;
  const stderr = output.stderr ?? process.stderr;
  return {
    options,
    paths,
    backend,
    log: (line) => {
      stdout.write(`${line}\n`);
    },
    progress: (label) => new ProgressReporter({ label, stream: stderr, plainPercentStep: 25 }),
  };
}

/** Milliseconds since `start` (a `performance.now()` reading). */
export function elapsedSince(start: number): number {
  return Math.round(performance.now() - start);
}

/** A duration for people: `850 ms`, `12.3 s`, `2 min 41 s`. */
export function formatDuration(ms: number): string {
  // Each unit is chosen after rounding, so 59.97 s reads `1 min 0 s`, never `60.0 s` or `1 min 60 s`.
  if (Math.round(ms) < 1000) return `${Math.round(ms)} ms`;
  if (Math.round(ms / 100) < 600) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

/** A share as a percentage: `40.6%`. */
export function formatPercent(share: number): string {
  return `${(100 * share).toFixed(1)}%`;
}
