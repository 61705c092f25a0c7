import { readFile } from "node:fs/promises";
import { CheckpointError, JsonValue } from "@orbiter/types";
import { z } from "zod";

/** Value of the `format` field of an evolution checkpoint file. */
export const EVOLUTION_CHECKPOINT_FORMAT = "orbiter.evolution-checkpoint";
/** Layout version of evolution checkpoint files. */
export const EVOLUTION_CHECKPOINT_VERSION = 1;

/** A score in JSON: a finite number, or `"Infinity"` / `"-Infinity"`. */
const EncodedScore = z.union([z.number(), z.literal("Infinity"), z.literal("-Infinity")]);
/** A score as JSON holds it. */
export type EncodedScore = z.output<typeof EncodedScore>;

/** Turns a score into JSON (infinities become strings). */
export function encodeScore(score: number): EncodedScore {
  if (score === Number.POSITIVE_INFINITY) return "Infinity";
  if (score === Number.NEGATIVE_INFINITY) return "-Infinity";
  return score;
}

/** Reads a score written by {@link encodeScore}. */
export function decodeScore(score: EncodedScore): number {
  if (score === "Infinity") return Number.POSITIVE_INFINITY;
  if (score === "-Infinity") return Number.NEGATIVE_INFINITY;
  return score;
}

const Stats = z.strictObject({
  epoch: z.number().int().nonnegative(),
  best: EncodedScore,
  mean: EncodedScore,
  worst: EncodedScore,
  diversity: z.number(),
  evaluations: z.number().int().nonnegative(),
  cacheHits: z.number().int().nonnegative(),
  failures: z.number().int().nonnegative(),
  bestSoFar: EncodedScore,
});

/**
 * Schema of an evolution checkpoint: the whole state of a run at the start of generation `nextEpoch` (the
 * population to evaluate, the carried elite scores, the RNG, the evaluation cache, the history and counters).
 */
export const EvolutionCheckpoint = z.strictObject({
  format: z.literal(EVOLUTION_CHECKPOINT_FORMAT),
  version: z.literal(EVOLUTION_CHECKPOINT_VERSION),
  savedAt: z.string(),
  config: z.record(z.string(), z.unknown()),
  nextEpoch: z.number().int().nonnegative(),
  population: z.array(JsonValue),
  carried: z.array(EncodedScore.nullable()),
  rng: z.strictObject({
    algorithm: z.literal("xoroshiro128plus"),
    words: z.array(z.number().int()).length(4),
    spareNormal: z.number().nullable(),
  }),
  cache: z.array(z.tuple([z.string(), EncodedScore])),
  history: z.array(Stats),
  best: z.strictObject({ candidate: JsonValue, score: EncodedScore, epoch: z.number().int() }).nullable(),
  patienceBest: EncodedScore,
  stale: z.number().int().nonnegative(),
  evaluations: z.number().int().nonnegative(),
  cacheHits: z.number().int().nonnegative(),
  failures: z.array(
    z.strictObject({ epoch: z.number().int(), index: z.number().int(), message: z.string() }),
  ),
});

/** A parsed evolution checkpoint. */
export type EvolutionCheckpoint = z.output<typeof EvolutionCheckpoint>;

/** Reads and checks an evolution checkpoint file; throws a `CheckpointError` naming the file. */
export async function readEvolutionCheckpoint(path: string): Promise<EvolutionCheckpoint> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    throw new CheckpointError(`Cannot read evolution checkpoint ${path}: ${(error as Error).message}`, {
      path,
      cause: error,
    });
  }
  const parsed = EvolutionCheckpoint.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CheckpointError(
      `${path} is not an evolution checkpoint: "${issue?.path.join(".") ?? ""}": ${issue?.message}`,
      { path, cause: parsed.error },
    );
  }
  return parsed.data;
}
