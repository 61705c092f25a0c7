import {
  AbortedError,
  deriveSeed,
  InvalidArgumentError,
  InvalidStateError,
  messageOf,
  PhaseError,
  parseWith,
  SeededRandom,
} from "@orbiter/types";
import { EvolutionConfig } from "../config/evolution-config.js";
import { abortError, runPool } from "../internal/run-pool.js";
import { stableKey } from "../internal/stable-key.js";
import { rankByScore } from "../selection/rank-by-score.js";
import { truncationSelection } from "../selection/truncation-selection.js";
import { checkStrategy } from "../strategy/check-strategy.js";
import type { EvolutionStrategy } from "../strategy/evolution-strategy.js";
import { type GenerationScores, recordEpoch } from "./epoch-stats.js";
import { planEvaluations, settleDuplicates } from "./evaluation-plan.js";
import { EvaluationReporter } from "./evaluation-reporter.js";
import { EvaluationsFailedError } from "./evaluations-failed-error.js";
import {
  readEvolutionCheckpoint,
  restoreEvolutionCheckpoint,
  saveEvolutionCheckpoint,
} from "./evolution-checkpoint.js";
import { EvolutionPhase } from "./evolution-phase.js";
import type { EvolutionResult, StopReason } from "./evolution-result.js";
import { type OffspringPlan, planOffspring } from "./offspring-plan.js";
import {
  checkPipelineOptions,
  type EvolutionPipelineOptions,
  type EvolutionRunOptions,
  parseRunOptions,
} from "./pipeline-options.js";
import type { RunState } from "./run-state.js";
import { scoreCandidates } from "./score-candidates.js";

/**
 * A genetic loop over candidates. `run(initialPopulation)` fills the population
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
   * @throws InvalidArgumentError naming the field when an option is unknown (`confg`), the config is invalid
   * (`config.populationSize`) or the strategy lacks a method (`strategy.mutate`)
   */
  constructor(options: EvolutionPipelineOptions<C>) {
    checkPipelineOptions(options);
    this.config = parseWith(EvolutionConfig, options.config ?? {}, {
      what: "EvolutionConfig",
      path: "config",
    });
    this.strategy = checkStrategy<C>(options.strategy);
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
   * @throws InvalidArgumentError for a bad initial population or an unknown or mistyped option; AbortedError
   * when cancelled; PhaseError when a strategy method other than `evaluate` throws (or `evaluate` does, with
   * `failOnError`);
   * {@link EvaluationsFailedError} (a PhaseError) when every evaluation of a generation fails; CheckpointError
   * when a checkpoint cannot be written
   */
  async run(
    initialPopulation: readonly C[],
    runOptions: EvolutionRunOptions = {},
  ): Promise<EvolutionResult<C>> {
    const options = parseRunOptions(runOptions);
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
  async resume(checkpointPath: string, resumeOptions: EvolutionRunOptions = {}): Promise<EvolutionResult<C>> {
    const options = parseRunOptions(resumeOptions);
    const checkpoint = await readEvolutionCheckpoint(checkpointPath);
    const state = restoreEvolutionCheckpoint(checkpoint, checkpointPath, this.config, this.strategy);
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
      const stats = recordEpoch(state, evaluated, epoch, (candidate) => this.keyOf(candidate));
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
        await saveEvolutionCheckpoint(options.checkpointPath, state, this.config, this.strategy);
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
    const { populationSize, mutationRate } = this.config;
    const population = [...initial];
    const missing = populationSize - initial.length;
    if (missing === 0) return population;
    const rngs = Array.from({ length: missing }, () => rng.fork());
    const made = new Array<C>(missing);
    await this.pool(
      EvolutionPhase.INIT,
      missing,
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

  /**
   * Runs `task` for indices `0..count-1`, at most `concurrency` at once; a failure rejects with a PhaseError
   * naming `phase` (or with the AbortedError when the run was cancelled).
   */
  private async pool(
    phase: EvolutionPhase,
    count: number,
    task: (index: number) => Promise<void>,
    signal: AbortSignal,
  ): Promise<void> {
    try {
      await runPool(count, this.config.concurrency, task, signal);
    } catch (error) {
      if (signal.aborted) throw abortError(signal);
      throw this.phaseError(phase, error);
    }
  }

  private phaseError(phase: EvolutionPhase, error: unknown): unknown {
    if (AbortedError.isInstance(error) || PhaseError.isInstance(error)) return error;
    return new PhaseError(phase, `Evolution failed while ${phase}: ${messageOf(error)}`, { cause: error });
  }

  /**
   * Evaluates a generation: carried and cached scores are reused, the rest scored (see `scoreCandidates`);
   * rejects with {@link EvaluationsFailedError} when not one candidate has a successful score.
   */
  private async evaluate(
    state: RunState<C>,
    epoch: number,
    options: EvolutionRunOptions,
    signal: AbortSignal,
  ): Promise<GenerationScores> {
    const { population } = state;
    const { concurrency, failOnError, seed } = this.config;
    const cache = this.config.cache ? state.cache : undefined;
    const reporter = new EvaluationReporter(epoch, population.length, options.onProgress);
    const plan = planEvaluations(
      population,
      state.carried,
      cache,
      (candidate) => this.keyOf(candidate),
      reporter,
    );
    let failures: Awaited<ReturnType<typeof scoreCandidates>>;
    try {
      failures = await scoreCandidates(plan, {
        strategy: this.strategy,
        population,
        epoch,
        concurrency,
        failOnError,
        seed,
        cache,
        signal,
        reporter,
      });
    } catch (error) {
      if (signal.aborted) throw abortError(signal);
      throw this.phaseError(EvolutionPhase.EVALUATING, error);
    }
    settleDuplicates(plan, reporter);
    if (population.length > 0 && plan.failed.every(Boolean)) {
      throw new EvaluationsFailedError(epoch, failures);
    }
    const evaluations = plan.pending.length;
    state.failures.push(...failures);
    state.evaluations += evaluations;
    state.cacheHits += plan.hits;
    return {
      scores: plan.scores,
      keys: plan.keys,
      evaluations,
      hits: plan.hits,
      failures: failures.length,
    };
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
    const { populationSize, elitism, crossoverRate, mutationRate } = this.config;
    const eliteIndices = rankByScore(scores).slice(0, Math.min(elitism, state.population.length));
    const eliteCount = eliteIndices.length;
    const offspringCount = populationSize - eliteCount;
    const crossover = this.strategy.crossover;
    const canCross = crossover !== undefined;
    const plans = planOffspring(state.rng, offspringCount, parents.length, crossoverRate, canCross);
    const offspring = new Array<C>(offspringCount);
    await this.pool(
      EvolutionPhase.MUTATING,
      offspringCount,
      async (offset) => {
        const plan = plans[offset] as OffspringPlan;
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
    state.population = [...eliteIndices.map((index) => state.population[index] as C), ...offspring];
    state.carried = [
      ...eliteIndices.map((index) => scores[index] as number),
      ...offspring.map(() => undefined),
    ];
  }
}
