import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CheckpointError, JsonValue, type SeededRandomState } from "@orbiter/types";
import { type CompletedTrainMetrics, TrainMetrics } from "../metrics/train-metrics.js";
import type { TrainerState } from "../trainer/trainer-state.js";
import {
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  type CheckpointManifest,
  TRAINER_STATE_FILE,
} from "./checkpoint-manifest.js";
import { decodeMetrics, encodeMetrics } from "./checkpoint-metrics.js";
import { writeDirectoryAtomic } from "./write-directory-atomic.js";

/** The last metrics of a trainer's phases. */
export interface PhaseMetrics {
  train?: CompletedTrainMetrics;
  evaluation?: CompletedTrainMetrics;
}

/** What a trainer checkpoint records of the base trainer. */
export interface TrainerSnapshot {
  /** Class name of the trainer. */
  trainer: string;
  state: TrainerState;
  progress: { step: number; epoch: number };
  config: object;
  rng: SeededRandomState;
  metrics: PhaseMetrics;
}

/**
 * Writes a trainer checkpoint folder atomically: `fill` writes the subclass's files into the fresh folder and
 * returns its JSON for the manifest's `custom` field; then `trainer-state.json` is written from `snapshot`.
 *
 * @throws CheckpointError when `fill` returns something that is not JSON, or writing fails (the previous
 * checkpoint at `dir`, if any, is kept), or `dir` is a file or a non-empty folder that is not a checkpoint
 * (nothing of it is deleted)
 */
export function writeTrainerCheckpoint(
  dir: string,
  snapshot: TrainerSnapshot,
  fill: (temporaryDir: string) => Promise<JsonValue | undefined> | JsonValue | undefined,
): Promise<CheckpointManifest> {
  return writeDirectoryAtomic(
    dir,
    async (temporaryDir) => {
      const custom = (await fill(temporaryDir)) ?? null;
      const checked = JsonValue.nullable().safeParse(custom);
      if (!checked.success) {
        throw new CheckpointError("onSaveCheckpoint must return JSON (finite numbers, no functions)", {
          path: dir,
          cause: checked.error,
        });
      }
      const { train, evaluation } = snapshot.metrics;
      const written: CheckpointManifest = {
        format: CHECKPOINT_FORMAT,
        version: CHECKPOINT_VERSION,
        trainer: snapshot.trainer,
        savedAt: new Date().toISOString(),
        state: snapshot.state,
        progress: { ...snapshot.progress },
        config: JSON.parse(JSON.stringify(snapshot.config)) as Record<string, unknown>,
        rng: snapshot.rng,
        metrics: {
          ...(train ? { train: encodeMetrics(train) } : {}),
          ...(evaluation ? { evaluation: encodeMetrics(evaluation) } : {}),
        },
        custom: checked.data,
      };
      await writeFile(join(temporaryDir, TRAINER_STATE_FILE), `${JSON.stringify(written, null, 2)}\n`);
      return written;
    },
    { replaces: TRAINER_STATE_FILE },
  );
}

/** The phases' metrics a manifest holds (a phase whose metrics do not parse is left out). */
export function checkpointedMetrics(manifest: CheckpointManifest): PhaseMetrics {
  const metrics: PhaseMetrics = {};
  for (const phase of ["train", "evaluation"] as const) {
    const parsed = TrainMetrics.safeParse(decodeMetrics(manifest.metrics[phase]));
    if (parsed.success) metrics[phase] = { ...parsed.data, steps: parsed.data.steps ?? 0 };
  }
  return metrics;
}
