import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { CheckpointError, JsonValue, SeededRandomState } from "@orbiter/types";
import { z } from "zod";
import { TrainerState } from "../trainer/trainer-state.js";

/** Name of the file every trainer checkpoint holds, next to whatever the trainer subclass writes. */
export const TRAINER_STATE_FILE = "trainer-state.json";

/** Value of the manifest's `format` field. */
export const CHECKPOINT_FORMAT = "orbiter.trainer-checkpoint";

/** Version of the manifest layout this package writes and reads. */
export const CHECKPOINT_VERSION = 1;

/**
 * Schema of `trainer-state.json`, the manifest of a trainer checkpoint folder:
 * ```
 * <dir>/
 *   trainer-state.json   this manifest (format, version, progress, config, RNG state, subclass state)
 *   ...                  files the subclass writes in its onSaveCheckpoint hook (weights, optimiser, ...)
 * ```
 */
export const CheckpointManifest = z.strictObject({
  /** Always {@link CHECKPOINT_FORMAT}. */
  format: z.literal(CHECKPOINT_FORMAT),
  /** Always {@link CHECKPOINT_VERSION}. */
  version: z.literal(CHECKPOINT_VERSION),
  /** Class name of the trainer that wrote it. */
  trainer: z.string(),
  /** ISO time of writing. */
  savedAt: z.string(),
  /** Lifecycle state when it was written. */
  state: z.enum(Object.values(TrainerState) as [TrainerState, ...TrainerState[]]),
  /** Step and epoch counters. */
  progress: z.strictObject({
    step: z.number().int().nonnegative(),
    epoch: z.number().int().nonnegative(),
  }),
  /** The trainer's parsed config. */
  config: z.record(z.string(), z.unknown()),
  /** State of the trainer's seeded random number generator. */
  rng: SeededRandomState,
  /** Last metrics of the training and evaluation phases, for information. */
  metrics: z.strictObject({ train: z.unknown().optional(), evaluation: z.unknown().optional() }),
  /** Whatever JSON the subclass returned from its onSaveCheckpoint hook (null when nothing). */
  custom: JsonValue.nullable(),
});

/** A parsed checkpoint manifest. */
export type CheckpointManifest = z.output<typeof CheckpointManifest>;

/**
 * Reads and checks the manifest of a trainer checkpoint folder. Throws a `CheckpointError` naming the file when
 * it is missing, is not JSON, or is not a manifest of this format and version.
 */
export async function readCheckpointManifest(dir: string): Promise<CheckpointManifest> {
  const path = join(dir, TRAINER_STATE_FILE);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new CheckpointError(`No trainer checkpoint in ${dir}: cannot read ${TRAINER_STATE_FILE}`, {
      path,
      cause: error,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new CheckpointError(`${path} is not valid JSON`, { path, cause: error });
  }
  const parsed = CheckpointManifest.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue ? issue.path.join(".") : "";
    throw new CheckpointError(`${path} is not a trainer checkpoint manifest: "${field}": ${issue?.message}`, {
      path,
      cause: parsed.error,
    });
  }
  return parsed.data;
}
