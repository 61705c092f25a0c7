import {
  AbortedError,
  CheckpointError,
  deriveSeed,
  InvalidArgumentError,
  InvalidStateError,
  JsonValue,
  PhaseError,
  parseWith,
  SeededRandom,
} from "@orbiter/types";
import { EvolutionConfig, type EvolutionConfigInput } from "../config/evolution-config.js";
import { abortError, runPool } from "../internal/run-pool.js";
import { stableKey } from "../internal/stable-key.js";
import { writeJsonAtomic } from "../internal/write-json-atomic.js";
import { rankByScore } from "../selection/rank-by-score.js";
import { truncationSelection } from "../selection/truncation-selection.js";
import type { EvolutionStrategy } from "../strategy/evolution-strategy.js";
import { EvaluationsFailedError } from "./evaluations-failed-error.js";
import {
  decodeScore,
  EVOLUTION_CHECKPOINT_FORMAT,
  EVOLUTION_CHECKPOINT_VERSION,
  type EvolutionCheckpoint,
  encodeScore,
  readEvolutionCheckpoint,
} from "./evolution-checkpoint.js";
import { EvolutionPhase } from "./evolution-phase.js";
import type {
  EpochStats,
  EvaluationFailure,
  EvolutionProgressEvent,
  EvolutionResult,
  StopReason,
} from "./evolution-result.js";

/** Options of the {@link EvolutionPipeline} constructor. */
export interface EvolutionPipelineOptions<C> {
  /** Hyper-parameters. @default {} (every default) */
  config?: EvolutionConfigInput | undefined;
  /** How candidates are scored and varied: an `EvolutionStrategy` subclass or a plain object. */
  strategy: EvolutionStrategy<C>;
}

/** Options of {@link EvolutionPipeline.run} and {@link EvolutionPipeline.resume}. */
export interface EvolutionRunOptions {
  /** Cancels the run: it rejects with `AbortedError` and evaluations receive the signal. @default undefined */
  signal?: AbortSignal | undefined;
  /** Receives phase, evaluation, epoch, checkpoint and stop events (synchronously). @default undefined */
  onProgress?: ((event: EvolutionProgressEvent) => void) | undefined;
  /**
   * Write the whole state of the run to this JSON file (atomically) at the start of every generation after the
   * first, so that `resume(path)` can continue it. @default undefined (no checkpoints)
   */
  checkpointPath?: string | undefined;
}

/** The mutable state of a run: everything a checkpoint holds. */
interface RunState<C> {
  nextEpoch: number;
  population: C[];
  carried: Array<number | undefined>;
  rng: SeededRandom;
  cache: Map<string, number>;
  history: EpochStats[];
  best: { candidate: C; score: number; epoch: number } | undefined;
  patienceBest: number;
  stale: number;
  evaluations: number;
  cacheHits: number;
  failures: EvaluationFailure[];
}

/** What evaluating one generation produced. */
interface GenerationScores {
  scores: number[];
  keys: Array<string | undefined>;
  evaluations: number;
  hits: number;
  failures: number;
}

const optionalMethods = ["select", "crossover", "key", "create", "encode", "decode"] as const;

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
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

/**
 * A genetic loop over candidates (the seed's `EvolutionPipeline`). `run(initialPopulation)` fills the population
 * to `populationSize`, then for each epoch: EVALUATING (in parallel under `concurrency`; cached scores reused; a
 * throwing evaluation scores −∞ and is recorded, or aborts with `failOnError`), SELECTING (default: truncation to
 * `selectionRatio`) and MUTATING (the `elitism` best carried over unchanged, the rest bred from the parents by
 * optional crossover then mutation). A generation in which every evaluation fails rejects the run with an
 * {@link EvaluationsFailedError}. The last generation is only evaluated. Runs stop early at `targetScore` or
 * after `patience` generations without improvement.
 *
 * Every random choice comes from one generator seeded by `config.seed`; each offspring gets its own forked
 * generator, drawn in index order before any asynchronous work, so the same seed gives the same run whatever the
 * concurrency and the order in which evaluations finish.
 *
 * @example
 * ```ts
 * const pipeline = new EvolutionPipeline({
 *   config: { epochs: 5, populationSize: 20, selectionRatio: 0.5, mutationRate: 0.1 },
 *   strategy: { evaluate: async (x: number) => -((x - 3) ** 2), mutate: (x, { rng }) => x + rng.normal(0, 0.5) },
 * });
 * const result = await pipeline.run([0]);
 * console.log(result.best, result.bestScore, result.epochsCompleted, result.history);
 * ```
 */
export class EvolutionPipeline<C> {
  /** The parsed config. */
  readonly config: EvolutionConfig;
  /** The strategy. */
  readonly strategy: EvolutionStrategy<C>;
  private currentPhase: EvolutionPhase = EvolutionPhase.INIT;
  private currentEpoch = 0;
  private running = false;

  /**
   * @throws InvalidArgumentError naming the field when the config is invalid (`config.populationSize`) or the
   * strategy lacks a method (`strategy.mutate`)
   */
  constructor(options: EvolutionPipelineOptions<C>) {
    if (options === null || typeof options !== "object") {
      throw new InvalidArgumentError("EvolutionPipeline needs { config, strategy }", { field: "options" });
    }
    this.config = parseWith(EvolutionConfig, options.config ?? {}, {
      what: "EvolutionConfig",
      path: "config",
    });
    const strategy = options.strategy as unknown;
    if (strategy === null || typeof strategy !== "object") {
      throw new InvalidArgumentError("EvolutionPipeline needs a strategy object", {
        field: "strategy",
        value: strategy,
      });
    }
    const methods = strategy as Record<string, unknown>;
    for (const name of ["evaluate", "mutate"]) {
      if (typeof methods[name] !== "function") {
        throw new InvalidArgumentError(`The strategy has no ${name}() method`, { field: `strategy.${name}` });
      }
    }
    for (const name of optionalMethods) {
      if (methods[name] !== undefined && typeof methods[name] !== "function") {
        throw new InvalidArgumentError(`strategy.${name} must be a function when given`, {
          field: `strategy.${name}`,
        });
      }
    }
    this.strategy = options.strategy;
  }

  /** The current phase: `init`, `evaluating`, `selecting`, `mutating` or `complete`. */
  get phase(): EvolutionPhase {
    return this.currentPhase;
  }

  /** The generation being processed (or last processed). */
  get epoch(): number {
    return this.currentEpoch;
  }

  /**
   * Runs the evolution from `initialPopulation` (1 to `populationSize` candidates; empty when the strategy has
   * `create`). Missing candidates are mutants of the given ones (round robin), or created.
   *
   * @throws InvalidArgumentError for a bad initial population; AbortedError when cancelled; PhaseError when a
   * strategy method other than `evaluate` throws (or `evaluate` does, with `failOnError`);
   * {@link EvaluationsFailedError} (a PhaseError) when every evaluation of a generation fails; CheckpointError
   * when a checkpoint cannot be written
   */
  async run(initialPopulation: readonly C[], options: EvolutionRunOptions = {}): Promise<EvolutionResult<C>> {
    if (!Array.isArray(initialPopulation)) {
      throw new InvalidArgumentError("initialPopulation must be an array", { field: "initialPopulation" });
    }
    const { populationSize } = this.config;
    if (initialPopulation.length > populationSize) {
      throw new InvalidArgumentError(
        `initialPopulation has ${initialPopulation.length} candidates, more than populationSize (${populationSize})`,
        { field: "initialPopulation", value: initialPopulation.length },
      );
    }
    if (initialPopulation.length === 0 && typeof this.strategy.create !== "function") {
      throw new InvalidArgumentError("initialPopulation is empty and the strategy has no create() method", {
        field: "initialPopulation",
      });
    }
    return this.guarded(options, async (signal) => {
      const state: RunState<C> = {
        nextEpoch: 0,
        population: [],
        carried: [],
        rng: new SeededRandom(deriveSeed(this.config.seed, "evolution")),
        cache: new Map(),
        history: [],
        best: undefined,
        patienceBest: Number.NEGATIVE_INFINITY,
        stale: 0,
        evaluations: 0,
        cacheHits: 0,
        failures: [],
      };
      this.setPhase(EvolutionPhase.INIT, 0, options);
      state.population = await this.fill(initialPopulation, state.rng, signal);
      state.carried = state.population.map(() => undefined);
      return this.loop(state, options, signal);
    });
  }

  /**
   * Continues a run from a checkpoint file written by `run(..., { checkpointPath })`. With the same config and
   * strategy, the result equals that of the run that was interrupted, had it gone on. `config.epochs` may be
   * larger than the original to extend a run.
   *
   * @throws CheckpointError when the file is unreadable, not a checkpoint, or does not fit this pipeline
   */
  async resume(checkpointPath: string, options: EvolutionRunOptions = {}): Promise<EvolutionResult<C>> {
    const checkpoint = await readEvolutionCheckpoint(checkpointPath);
    const state = this.restore(checkpoint, checkpointPath);
    const runOptions = { ...options, checkpointPath: options.checkpointPath ?? checkpointPath };
    return this.guarded(runOptions, (signal) => this.loop(state, runOptions, signal));
  }

  private async guarded(
    options: EvolutionRunOptions,
    body: (signal: AbortSignal) => Promise<EvolutionResult<C>>,
  ): Promise<EvolutionResult<C>> {
    if (this.running) {
      throw new InvalidStateError("This EvolutionPipeline is already running; wait for it or make another", {
        state: this.currentPhase,
      });
    }
    this.running = true;
    const controller = new AbortController();
    const forward = () => controller.abort(options.signal?.reason);
    if (options.signal?.aborted) forward();
    else options.signal?.addEventListener("abort", forward, { once: true });
    try {
      return await body(controller.signal);
    } finally {
      options.signal?.removeEventListener("abort", forward);
      // Evaluations still running (after an abort or a failure) see the signal and may stop early.
      if (!controller.signal.aborted) controller.abort(new AbortedError("The evolution run has ended"));
      this.running = false;
    }
  }

  private async loop(state: RunState<C>, options: EvolutionRunOptions, signal: AbortSignal) {
    const { epochs, targetScore, patience, minDelta } = this.config;
    let stopReason: StopReason = "epochs";
    let scores: number[] = [];
    let lastEpoch = state.nextEpoch - 1;
    for (let epoch = state.nextEpoch; epoch < epochs; epoch++) {
      lastEpoch = epoch;
      this.setPhase(EvolutionPhase.EVALUATING, epoch, options);
      const evaluated = await this.evaluate(state, epoch, options, signal);
      scores = evaluated.scores;
      const stats = this.recordEpoch(state, evaluated, epoch);
      options.onProgress?.({ type: "epoch", epoch, stats });

      const bestScore = state.best?.score ?? Number.NEGATIVE_INFINITY;
      if (bestScore > state.patienceBest + minDelta) {
        state.patienceBest = bestScore;
        state.stale = 0;
      } else {
        state.stale++;
      }
      if (targetScore !== undefined && bestScore >= targetScore) stopReason = "target";
      else if (patience !== undefined && state.stale >= patience) stopReason = "patience";
      if (stopReason !== "epochs" || epoch === epochs - 1) break;

      this.setPhase(EvolutionPhase.SELECTING, epoch, options);
      const parents = await this.select(state, scores, epoch);
      this.setPhase(EvolutionPhase.MUTATING, epoch, options);
      await this.breed(state, scores, parents, epoch, signal);
      state.nextEpoch = epoch + 1;
      if (options.checkpointPath !== undefined) {
        await this.save(state, options.checkpointPath);
        options.onProgress?.({ type: "checkpoint", epoch: epoch + 1, path: options.checkpointPath });
      }
    }
    this.setPhase(EvolutionPhase.COMPLETE, Math.max(0, lastEpoch), options);
    options.onProgress?.({ type: "stop", epoch: Math.max(0, lastEpoch), reason: stopReason });
    const best = state.best;
    if (!best) throw new InvalidStateError("The run evaluated nothing", { state: this.currentPhase });
    return {
      best: best.candidate,
      bestScore: best.score,
      bestEpoch: best.epoch,
      epochsCompleted: lastEpoch + 1,
      stopReason,
      history: state.history,
      evaluations: state.evaluations,
      cacheHits: state.cacheHits,
      failures: state.failures,
      population: state.population,
      scores,
    };
  }

  private setPhase(phase: EvolutionPhase, epoch: number, options: EvolutionRunOptions): void {
    this.currentPhase = phase;
    this.currentEpoch = epoch;
    options.onProgress?.({ type: "phase", epoch, phase });
  }

  private keyOf(candidate: C): string | undefined {
    return this.strategy.key ? this.strategy.key(candidate) : stableKey(candidate);
  }

  private async fill(initial: readonly C[], rng: SeededRandom, signal: AbortSignal): Promise<C[]> {
    const { populationSize, mutationRate, concurrency } = this.config;
    const population = [...initial];
    const missing = populationSize - initial.length;
    if (missing === 0) return population;
    const rngs = Array.from({ length: missing }, () => rng.fork());
    const made = new Array<C>(missing);
    try {
      await runPool(
        missing,
        concurrency,
        async (offset) => {
          const index = initial.length + offset;
          const childRng = rngs[offset] as SeededRandom;
          const child =
            initial.length === 0
              ? await (this.strategy.create as NonNullable<EvolutionStrategy<C>["create"]>)({
                  rng: childRng,
                  index,
                })
              : await this.strategy.mutate(initial[offset % initial.length] as C, {
                  mutationRate,
                  rng: childRng,
                  epoch: 0,
                  index,
                });
          made[offset] = this.checkCandidate(child, initial.length === 0 ? "create" : "mutate");
        },
        signal,
      );
    } catch (error) {
      throw this.phaseError(EvolutionPhase.INIT, error);
    }
    return population.concat(made);
  }

  private checkCandidate(candidate: C, method: string): C {
    if (candidate === undefined) {
      throw new InvalidArgumentError(`strategy.${method}() returned undefined instead of a candidate`, {
        field: `strategy.${method}`,
      });
    }
    return candidate;
  }

  private phaseError(phase: EvolutionPhase, error: unknown): unknown {
    if (AbortedError.isInstance(error) || PhaseError.isInstance(error)) return error;
    return new PhaseError(phase, `Evolution failed while ${phase}: ${messageOf(error)}`, { cause: error });
  }

  private async evaluate(
    state: RunState<C>,
    epoch: number,
    options: EvolutionRunOptions,
    signal: AbortSignal,
  ): Promise<GenerationScores> {
    const { population, carried, cache } = state;
    const { concurrency, failOnError, seed } = this.config;
    const useCache = this.config.cache;
    const total = population.length;
    const scores = new Array<number>(total);
    const keys = new Array<string | undefined>(total);
    /** Whether each score comes from a failed evaluation (carried and cached scores never do). */
    const failed = new Array<boolean>(total).fill(false);
    const pending: number[] = [];
    const firstOfKey = new Map<string, number>();
    const duplicates: Array<[number, number]> = [];
    let hits = 0;
    let completed = 0;
    const report = (index: number, score: number, cached: boolean, error?: string) => {
      completed++;
      options.onProgress?.({
        type: "evaluation",
        epoch,
        index,
        score,
        cached,
        ...(error === undefined ? {} : { error }),
        completed,
        total,
      });
    };
    for (let index = 0; index < total; index++) {
      const kept = carried[index];
      if (kept !== undefined) {
        scores[index] = kept;
        completed++;
        continue;
      }
      if (useCache) {
        const key = this.keyOf(population[index] as C);
        keys[index] = key;
        if (key !== undefined) {
          const cached = cache.get(key);
          if (cached !== undefined) {
            scores[index] = cached;
            hits++;
            report(index, cached, true);
            continue;
          }
          const first = firstOfKey.get(key);
          if (first !== undefined) {
            duplicates.push([index, first]);
            continue;
          }
          firstOfKey.set(key, index);
        }
      }
      pending.push(index);
    }

    let evaluations = 0;
    const failures: EvaluationFailure[] = [];
    try {
      await runPool(
        pending.length,
        concurrency,
        async (slot) => {
          const index = pending[slot] as number;
          const context = { epoch, index, seed: deriveSeed(seed, "evaluate", epoch, index), signal };
          let score: number;
          let failure: string | undefined;
          try {
            const value: unknown = await this.strategy.evaluate(population[index] as C, context);
            if (typeof value !== "number" || Number.isNaN(value)) {
              throw new InvalidArgumentError(
                `strategy.evaluate() returned ${String(value)} instead of a number`,
                {
                  field: "strategy.evaluate",
                  value,
                },
              );
            }
            score = value;
          } catch (error) {
            if (signal.aborted) throw abortError(signal);
            // The pool rejects with the first error and starts no other evaluation.
            if (failOnError) throw error;
            score = Number.NEGATIVE_INFINITY;
            failed[index] = true;
            failure = messageOf(error);
            failures.push({ epoch, index, message: failure, error });
          }
          evaluations++;
          scores[index] = score;
          const key = keys[index];
          if (failure === undefined && key !== undefined) cache.set(key, score);
          report(index, score, false, failure);
        },
        signal,
      );
    } catch (error) {
      if (signal.aborted) throw abortError(signal);
      throw this.phaseError(EvolutionPhase.EVALUATING, error);
    }
    for (const [index, first] of duplicates) {
      scores[index] = scores[first] as number;
      failed[index] = failed[first] as boolean;
      hits++;
      report(index, scores[index] as number, true);
    }
    failures.sort((a, b) => a.index - b.index);
    if (total > 0 && failed.every(Boolean)) throw new EvaluationsFailedError(epoch, failures);
    state.failures.push(...failures);
    state.evaluations += evaluations;
    state.cacheHits += hits;
    return { scores, keys, evaluations, hits, failures: failures.length };
  }

  private recordEpoch(state: RunState<C>, evaluated: GenerationScores, epoch: number): EpochStats {
    const { population } = state;
    const { scores, keys } = evaluated;
    let best = Number.NEGATIVE_INFINITY;
    let worst = Number.POSITIVE_INFINITY;
    let sum = 0;
    let finite = 0;
    for (let index = 0; index < scores.length; index++) {
      const score = scores[index] as number;
      if (score > best) best = score;
      if (Number.isFinite(score)) {
        sum += score;
        finite++;
        if (score < worst) worst = score;
      }
      if (state.best === undefined || score > state.best.score) {
        state.best = { candidate: population[index] as C, score, epoch };
      }
    }
    const distinct = new Set<unknown>();
    for (let index = 0; index < population.length; index++) {
      const key = keys[index] ?? this.keyOf(population[index] as C);
      distinct.add(key ?? population[index]);
    }
    const stats: EpochStats = {
      epoch,
      best,
      mean: finite === 0 ? Number.NEGATIVE_INFINITY : sum / finite,
      worst: finite === 0 ? Number.NEGATIVE_INFINITY : worst,
      diversity: population.length === 0 ? 0 : distinct.size / population.length,
      evaluations: evaluated.evaluations,
      cacheHits: evaluated.hits,
      failures: evaluated.failures,
      bestSoFar: state.best?.score ?? Number.NEGATIVE_INFINITY,
    };
    state.history.push(stats);
    return stats;
  }

  private async select(state: RunState<C>, scores: number[], epoch: number): Promise<C[]> {
    const { populationSize, selectionRatio } = this.config;
    const count = Math.max(1, Math.floor(populationSize * selectionRatio));
    let parents: unknown;
    try {
      parents = this.strategy.select
        ? await this.strategy.select(state.population, scores, {
            selectionRatio,
            count,
            rng: state.rng,
            epoch,
          })
        : truncationSelection(state.population, scores, { count });
      if (!Array.isArray(parents) || parents.length === 0) {
        throw new InvalidArgumentError("strategy.select() must return a non-empty array of candidates", {
          field: "strategy.select",
          value: parents,
        });
      }
    } catch (error) {
      throw this.phaseError(EvolutionPhase.SELECTING, error);
    }
    return parents as C[];
  }

  private async breed(
    state: RunState<C>,
    scores: number[],
    parents: C[],
    epoch: number,
    signal: AbortSignal,
  ): Promise<void> {
    const { populationSize, elitism, crossoverRate, mutationRate, concurrency } = this.config;
    const eliteIndices = rankByScore(scores).slice(0, Math.min(elitism, state.population.length));
    const eliteCount = eliteIndices.length;
    const offspringCount = populationSize - eliteCount;
    const crossover = this.strategy.crossover;
    // Draw every random decision in index order before any asynchronous work, for determinism.
    const plans = Array.from({ length: offspringCount }, (_, offset) => {
      const firstIndex = offset % parents.length;
      let secondIndex: number | undefined;
      if (crossover && parents.length > 1 && crossoverRate > 0 && state.rng.bernoulli(crossoverRate)) {
        secondIndex = state.rng.integer(0, parents.length - 2);
        if (secondIndex >= firstIndex) secondIndex++;
      }
      return { firstIndex, secondIndex, rng: state.rng.fork() };
    });
    const offspring = new Array<C>(offspringCount);
    try {
      await runPool(
        offspringCount,
        concurrency,
        async (offset) => {
          const plan = plans[offset] as (typeof plans)[number];
          const index = eliteCount + offset;
          let child = parents[plan.firstIndex] as C;
          if (plan.secondIndex !== undefined && crossover) {
            child = this.checkCandidate(
              await crossover.call(this.strategy, child, parents[plan.secondIndex] as C, {
                rng: plan.rng,
                epoch,
                index,
              }),
              "crossover",
            );
          }
          offspring[offset] = this.checkCandidate(
            await this.strategy.mutate(child, { mutationRate, rng: plan.rng, epoch, index }),
            "mutate",
          );
        },
        signal,
      );
    } catch (error) {
      if (signal.aborted) throw abortError(signal);
      throw this.phaseError(EvolutionPhase.MUTATING, error);
    }
    state.population = [...eliteIndices.map((index) => state.population[index] as C), ...offspring];
    state.carried = [
      ...eliteIndices.map((index) => scores[index] as number),
      ...offspring.map(() => undefined),
    ];
  }

  private encode(candidate: C, what: string): JsonValue {
    const json = this.strategy.encode ? this.strategy.encode(candidate) : candidate;
    const checked = JsonValue.safeParse(json);
    if (!checked.success) {
      throw new CheckpointError(
        `${what} is not JSON; give the strategy encode() and decode() methods to checkpoint such candidates`,
        { cause: checked.error },
      );
    }
    return checked.data;
  }

  private decode(json: JsonValue): C {
    return this.strategy.decode ? this.strategy.decode(json) : (json as C);
  }

  private async save(state: RunState<C>, path: string): Promise<void> {
    const checkpoint: EvolutionCheckpoint = {
      format: EVOLUTION_CHECKPOINT_FORMAT,
      version: EVOLUTION_CHECKPOINT_VERSION,
      savedAt: new Date().toISOString(),
      config: JSON.parse(JSON.stringify(this.config)) as Record<string, unknown>,
      nextEpoch: state.nextEpoch,
      population: state.population.map((candidate, index) => this.encode(candidate, `population[${index}]`)),
      carried: state.carried.map((score) => (score === undefined ? null : encodeScore(score))),
      rng: state.rng.getState(),
      cache: [...state.cache].map(([key, score]) => [key, encodeScore(score)]),
      history: state.history.map((stats) => ({
        ...stats,
        best: encodeScore(stats.best),
        mean: encodeScore(stats.mean),
        worst: encodeScore(stats.worst),
        bestSoFar: encodeScore(stats.bestSoFar),
      })),
      best: state.best
        ? {
            candidate: this.encode(state.best.candidate, "the best candidate"),
            score: encodeScore(state.best.score),
            epoch: state.best.epoch,
          }
        : null,
      patienceBest: encodeScore(state.patienceBest),
      stale: state.stale,
      evaluations: state.evaluations,
      cacheHits: state.cacheHits,
      failures: state.failures.map(({ epoch, index, message }) => ({ epoch, index, message })),
    };
    await writeJsonAtomic(path, checkpoint);
  }

  private restore(checkpoint: EvolutionCheckpoint, path: string): RunState<C> {
    // The settings that decide which candidates are made must match the run that wrote the checkpoint; `epochs`,
    // `concurrency`, early stopping and error handling may change (results do not depend on them until they act).
    for (const field of SEARCH_FIELDS) {
      const saved = JSON.stringify(checkpoint.config[field]);
      const current = JSON.stringify(this.config[field]);
      if (saved !== current) {
        throw new CheckpointError(
          `${path} was written with config.${field} = ${saved ?? "undefined"}, but this pipeline has ${current ?? "undefined"}`,
          { path },
        );
      }
    }
    if (checkpoint.population.length !== this.config.populationSize) {
      throw new CheckpointError(
        `${path} holds ${checkpoint.population.length} candidates but config.populationSize is ${this.config.populationSize}`,
        { path },
      );
    }
    if (checkpoint.carried.length !== checkpoint.population.length) {
      throw new CheckpointError(`${path}: carried and population differ in length`, { path });
    }
    if (checkpoint.nextEpoch >= this.config.epochs) {
      throw new CheckpointError(
        `${path} continues at epoch ${checkpoint.nextEpoch} but config.epochs is ${this.config.epochs}: nothing to run`,
        { path },
      );
    }
    let state: RunState<C>;
    try {
      state = {
        nextEpoch: checkpoint.nextEpoch,
        population: checkpoint.population.map((json) => this.decode(json)),
        carried: checkpoint.carried.map((score) => (score === null ? undefined : decodeScore(score))),
        rng: SeededRandom.fromState(checkpoint.rng),
        cache: new Map(checkpoint.cache.map(([key, score]) => [key, decodeScore(score)])),
        history: checkpoint.history.map((stats) => ({
          ...stats,
          best: decodeScore(stats.best),
          mean: decodeScore(stats.mean),
          worst: decodeScore(stats.worst),
          bestSoFar: decodeScore(stats.bestSoFar),
        })),
        best: checkpoint.best
          ? {
              candidate: this.decode(checkpoint.best.candidate),
              score: decodeScore(checkpoint.best.score),
              epoch: checkpoint.best.epoch,
            }
          : undefined,
        patienceBest: decodeScore(checkpoint.patienceBest),
        stale: checkpoint.stale,
        evaluations: checkpoint.evaluations,
        cacheHits: checkpoint.cacheHits,
        failures: checkpoint.failures.map((failure) => ({ ...failure })),
      };
    } catch (error) {
      throw new CheckpointError(`${path} could not be decoded: ${messageOf(error)}`, { path, cause: error });
    }
    return state;
  }
}
