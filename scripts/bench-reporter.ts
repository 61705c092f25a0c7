/**
 * The shared reporter of the packages' benchmarks (`packages/<name>/bench/index.ts`, run with tsx). Each
 * measurement is printed as one JSON line on stdout, with `"pass"` when it has a target, and collected; `save()`
 * writes the lines to `bench-results/<file>.jsonl` at the repository root. Progress goes to stderr as `# ...`
 * lines, so stdout stays machine-readable. See CONTRIBUTING.md ("Benchmarks").
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** One measurement: a named value, with an optional target it must meet. */
export interface Measurement {
  name: string;
  value: number;
  unit: string;
  target?: number;
  /** How `value` is held against `target`. @default ">=" */
  comparison?: ">=" | "<=" | "<";
  [extra: string]: unknown;
}

const root = fileURLToPath(new URL("..", import.meta.url));

/** Whether `measurement` meets its target (`undefined` when it has none). */
export function meetsTarget(measurement: Measurement): boolean | undefined {
  const { target, comparison = ">=", value } = measurement;
  if (target === undefined) return undefined;
  if (comparison === "<=") return value <= target;
  if (comparison === "<") return value < target;
  return value >= target;
}

/** The median of a list of numbers (the upper middle value for an even count). */
export function median(values: ReadonlyArray<number>): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
}

/** Reporter of one package's benchmark run. */
export class BenchReporter {
  private readonly lines: string[] = [];

  /**
   * @param packageName written into every line, e.g. `"@orbiter/synthesis"`
   * @param file the results file under `bench-results/`, without extension, e.g. `"synthesis"`
   */
  constructor(
    private readonly packageName: string,
    private readonly file: string,
  ) {}

  /** Prints and records one measurement. */
  report(measurement: Measurement): void {
    const pass = meetsTarget(measurement);
    const line = JSON.stringify({
      package: this.packageName,
      ...measurement,
      ...(pass === undefined ? {} : { pass }),
    });
    this.lines.push(line);
    process.stdout.write(`${line}\n`);
  }

  /** A progress note on stderr. */
  log(message: string): void {
    process.stderr.write(`# ${message}\n`);
  }

  /** Writes every recorded line to `bench-results/<file>.jsonl`. */
  save(): void {
    mkdirSync(join(root, "bench-results"), { recursive: true });
    writeFileSync(join(root, "bench-results", `${this.file}.jsonl`), `${this.lines.join("\n")}\n`);
  }
}
