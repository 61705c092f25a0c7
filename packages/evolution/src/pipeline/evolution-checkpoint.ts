import { readFile } from "node:fs/promises";
import {
  CheckpointError,
  decodeJsonNumber,
  encodeJsonNumber,
  JsonNumber,
  JsonValue,
  messageOf,
  SeededRandom,
  SeededRandomState,
} from "@orbiter/types";
import { z } from "zod";
import type { EvolutionConfig } from "../config/evolution-config.js";
import { writeJsonAtomic } from "../internal/write-json-atomic.js";
import type { EvolutionStrategy } from "../strategy/evolution-strategy.js";
import type { RunState } from "./run-state.js";

/** Value of the `format` field of an evolution checkpoint file. */
export const EVOLUTION_CHECKPOINT_FORMAT = "orbiter.evolution-checkpoint";
/** Layout version of evolution checkpoint files. */
export const EVOLUTION_CHECKPOINT_VERSION = 1;

const Stats = z.strictObject({
  epoch: z.number().int().nonnegative(),
  best: JsonNumber,
  mean: JsonNumber,
  worst: JsonNumber,
  diversity: z.number(),
  evaluations: z.number().int().nonnegative(),
  cacheHits: z.number().int().nonnegative(),
  failures: z.number().int().nonnegative(),
  bestSoFar: JsonNumber,
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
  carried: z.array(JsonNumber.nullable()),
  rng: SeededRandomState,
  cache: z.array(z.tuple([z.string(), JsonNumber])),
  history: z.array(Stats),
  best: z.strictObject({ candidate: JsonValue, score: JsonNumber, epoch: z.number().int() }).nullable(),
  patienceBest: JsonNumber,
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
    throw new CheckpointError(`Cannot read evolution checkpoint ${path}: ${messageOf(error)}`, {
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

/** Config fields that shape the search: a checkpoint resumes only under the same values. */
const SEARCH_FIELDS = [
  "populationSize",
  "selectionRatio",
  "mutationRate",
  "elitism",
  "crossoverRate",
  "seed",
  "cache",
] as const satisfies ReadonlyArray<keyof EvolutionConfig>;

/** A candidate as JSON: the strategy's `encode`, or the candidate itself when it is JSON. */
function encodeCandidate<C>(strategy: EvolutionStrategy<C>, candidate: C, what: string): JsonValue {
  const json = strategy.encode ? strategy.encode(candidate) : candidate;
  const checked = JsonValue.safeParse(json);
  if (!checked.success) {
    throw new CheckpointError(
      `${what} is not JSON; give the strategy encode() and decode() methods to checkpoint such candidates`,
      { cause: checked.error },
    );
  }
  return checked.data;
}

function decodeCandidate<C>(strategy: EvolutionStrategy<C>, json: JsonValue): C {
  return strategy.decode ? strategy.decode(json) : (json as C);
}

/**
 * Writes the state of a run to `path` as an evolution checkpoint (atomically), candidates through the strategy's
 * `encode`.
 *
 * @throws CheckpointError when a candidate is not JSON or the file cannot be written
 */
export async function saveEvolutionCheckpoint<C>(
  path: string,
  state: RunState<C>,
  config: EvolutionConfig,
  strategy: EvolutionStrategy<C>,
): Promise<void> {
  const checkpoint: EvolutionCheckpoint = {
    format: EVOLUTION_CHECKPOINT_FORMAT,
    version: EVOLUTION_CHECKPOINT_VERSION,
    savedAt: new Date().toISOString(),
    config: JSON.parse(JSON.stringify(config)) as Record<string, unknown>,
    nextEpoch: state.nextEpoch,
    population: state.population.map((candidate, index) =>
      encodeCandidate(strategy, candidate, `population[${index}]`),
    ),
    carried: state.carried.map((score) => (score === undefined ? null : encodeJsonNumber(score))),
    rng: state.rng.getState(),
    cache: [...state.cache].map(([key, score]) => [key, encodeJsonNumber(score)]),
    history: state.history.map((stats) => ({
      ...stats,
      best: encodeJsonNumber(stats.best),
      mean: encodeJsonNumber(stats.mean),
      worst: encodeJsonNumber(stats.worst),
      bestSoFar: encodeJsonNumber(stats.bestSoFar),
    })),
    best: state.best
      ? {
          candidate: encodeCandidate(strategy, state.best.candidate, "the best candidate"),
          score: encodeJsonNumber(state.best.score),
          epoch: state.best.epoch,
        }
      : null,
    patienceBest: encodeJsonNumber(state.patienceBest),
    stale: state.stale,
    evaluations: state.evaluations,
    cacheHits: state.cacheHits,
    failures: state.failures.map(({ epoch, index, message }) => ({ epoch, index, message })),
  };
  await writeJsonAtomic(path, checkpoint);
}

/**
 * The run state a checkpoint holds, candidates through the strategy's `decode`. The settings that decide which
 * candidates are made must match the run that wrote it; `epochs`, `concurrency`, early stopping and error
 * handling may change (results do not depend on them until they act).
 *
 * @throws CheckpointError naming `path` when the checkpoint does not fit `config` or cannot be decoded
 */
export function restoreEvolutionCheckpoint<C>(
  checkpoint: EvolutionCheckpoint,
  path: string,
  config: EvolutionConfig,
  strategy: EvolutionStrategy<C>,
): RunState<C> {
  for (const field of SEARCH_FIELDS) {
    const saved = JSON.stringify(checkpoint.config[field]);
    const current = JSON.stringify(config[field]);
    if (saved !== current) {
      throw new CheckpointError(
        `${path} was written with config.${field} = ${saved ?? "undefined"}, but this pipeline has ${current ?? "undefined"}`,
        { path },
      );
    }
  }
  if (checkpoint.population.length !== config.populationSize) {
    throw new CheckpointError(
      `${path} holds ${checkpoint.population.length} candidates but config.populationSize is ${config.populationSize}`,
      { path },
    );
  }
  if (checkpoint.carried.length !== checkpoint.population.length) {
    throw new CheckpointError(`${path}: carried and population differ in length`, { path });
  }
  if (checkpoint.nextEpoch >= config.epochs) {
    throw new CheckpointError(
      `${path} continues at epoch ${checkpoint.nextEpoch} but config.epochs is ${config.epochs}: nothing to run`,
      { path },
    );
  }
  try {
    return {
      nextEpoch: checkpoint.nextEpoch,
      population: checkpoint.population.map((json) => decodeCandidate(strategy, json)),
      carried: checkpoint.carried.map((score) => (score === null ? undefined : decodeJsonNumber(score))),
      rng: SeededRandom.fromState(checkpoint.rng),
      cache: new Map(checkpoint.cache.map(([key, score]) => [key, decodeJsonNumber(score)])),
      history: checkpoint.history.map((stats) => ({
        ...stats,
        best: decodeJsonNumber(stats.best),
        mean: decodeJsonNumber(stats.mean),
        worst: decodeJsonNumber(stats.worst),
        bestSoFar: decodeJsonNumber(stats.bestSoFar),
      })),
      best: checkpoint.best
        ? {
            candidate: decodeCandidate(strategy, checkpoint.best.candidate),
            score: decodeJsonNumber(checkpoint.best.score),
            epoch: checkpoint.best.epoch,
          }
        : undefined,
      patienceBest: decodeJsonNumber(checkpoint.patienceBest),
      stale: checkpoint.stale,
      evaluations: checkpoint.evaluations,
      cacheHits: checkpoint.cacheHits,
      failures: checkpoint.failures.map((failure) => ({ ...failure })),
    };
  } catch (error) {
    throw new CheckpointError(`${path} could not be decoded: ${messageOf(error)}`, { path, cause: error });
  }
}
