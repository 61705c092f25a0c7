import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { TrajectoryDataset } from "@orbiter/trajectory";
import type { Sample } from "@orbiter/types";

/**
 * Writes samples as JSON Lines of trajectory items (input → state, output → action, score → reward), so every
 * dataset of the demo opens with `TrajectoryDataset.fromJsonl` and the same tools.
 */
export async function writeSamples(path: string, samples: ReadonlyArray<Sample>): Promise<void> {
  const dataset = new TrajectoryDataset();
  for (const sample of samples) {
    dataset.capture({
      id: sample.id,
      state: sample.input,
      action: sample.output,
      reward: sample.score ?? 0,
      metadata: sample.metadata,
    });
  }
  await mkdir(dirname(path), { recursive: true });
  await dataset.exportJsonl(path);
}

/** Reads samples written by {@link writeSamples}. */
export async function readSamples(path: string): Promise<Sample[]> {
  const dataset = await TrajectoryDataset.fromJsonl(path);
  return dataset.toSamples();
}
