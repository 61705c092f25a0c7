import { mkdir, readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { InvalidStateError, writeFileAtomic } from "@orbiter/types";
import { DEMO_PHASES, type DemoPhase } from "./cli.js";
import type { DemoPaths } from "./demo-paths.js";
import type { DemoResults, PhaseResult } from "./demo-results.js";

/** Writes a JSON file atomically, creating its folder. */
export async function writeJson(path: string, value: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** Saves the result of a phase (`results/<phase>.json`). */
export async function saveResult(paths: DemoPaths, result: PhaseResult): Promise<void> {
  await writeJson(paths.result(result.phase), result);
}

/** Reads the result of a phase, or undefined when that phase has not run in this output folder. */
export async function loadResult<P extends DemoPhase>(
  paths: DemoPaths,
  phase: P,
): Promise<DemoResults[P] | undefined> {
  try {
    return JSON.parse(await readFile(paths.result(phase), "utf8")) as DemoResults[P];
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/** Reads the result of a phase the current one depends on; fails with a hint when it is missing. */
export async function requireResult<P extends DemoPhase>(
  paths: DemoPaths,
  phase: P,
  needed: string,
): Promise<NonNullable<DemoResults[P]>> {
  const result = await loadResult(paths, phase);
  if (result === undefined) {
    throw new InvalidStateError(
      `${needed} needs the output of the ${phase} phase in ${paths.root}: run \`pnpm demo --phase ${phase}\` (or --phase all) first`,
      { state: `missing-${phase}` },
    );
  }
  return result as NonNullable<DemoResults[P]>;
}

/** Every phase result present in the output folder. */
export async function loadResults(paths: DemoPaths): Promise<DemoResults> {
  const results: Record<string, unknown> = {};
  for (const phase of DEMO_PHASES) {
    const result = await loadResult(paths, phase);
    if (result !== undefined) results[phase] = result;
  }
  return results as DemoResults;
}
