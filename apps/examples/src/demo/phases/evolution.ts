import { EvolutionPipeline, HyperparameterStrategy } from "@orbiter/evolution";
import { deriveSeed } from "@orbiter/types";
import { type DemoContext, elapsedSince, formatPercent } from "../demo-context.js";
import type { CandidateRecord, EvolutionPhaseResult, RlSettings } from "../demo-results.js";
import { evaluateGreedy, subsample } from "../evaluation.js";
import { loadPolicy } from "../policy-factory.js";
import { requireResult, saveResult } from "../result-files.js";
import { defaultRlSettings, trainWithRl } from "../rl-training.js";
import { readSamples } from "../sample-files.js";

/**
 * The RL settings searched, and their ranges, for the default policy (rotary positions): learning rates from 2e-5
 * to 1e-4, since from its 83% warm start higher rates lose held-out points (see `DEFAULT_RL_SETTINGS`).
 */
export const RL_SEARCH_SPACE = {
  learningRate: { type: "float", min: 2e-5, max: 1e-4, scale: "log" },
  klCoef: { type: "float", min: 0, max: 0.1 },
  temperature: { type: "float", min: 0.7, max: 1.3 },
} as const;

/** The search space for a policy with learned positions only (`--positions learned`), whose warm start is weak. */
export const LEARNED_POSITIONS_SEARCH_SPACE = {
  ...RL_SEARCH_SPACE,
  learningRate: { type: "float", min: 3e-4, max: 3e-3, scale: "log" },
} as const;

/** Prompts of the training split each short run draws from (a fixed subset keeps the runs comparable). */
const PROMPTS_PER_RUN = 128;

/**
 * Phase 4: evolution tunes the RL settings (learning rate, KL coefficient, sampling temperature). Each candidate
 * is a short GRPO run from the SFT warm start, scored by its accuracy on the validation split (the test split is
 * never looked at); the best settings go to the RL phase. The search space and the defaults follow the warm
 * start's positional scheme. The first generation is the default settings and mutants of them, so the search
 * refines a known-good point rather than starting from random ones.
 */
export async function runEvolution(context: DemoContext): Promise<EvolutionPhaseResult> {
  const started = performance.now();
  const { options, paths } = context;
  await requireResult(paths, "sft", "evolution");
  const train = await readSamples(paths.datasets.train);
  const validation = await readSamples(paths.datasets.validation);
  const warmStart = await loadPolicy(paths.checkpoints.sft);
  const prompts = subsample(train, PROMPTS_PER_RUN, deriveSeed(options.seed, "evolution-prompts"));
  const candidates: CandidateRecord[] = [];
  const progress = context.progress("evolution");
  const batchSize = Math.max(1, Math.floor(options.rlBatchSize / 2));
  try {
    const rotary = warmStart.config.rotary;
    const strategy = new HyperparameterStrategy({
      space: rotary ? RL_SEARCH_SPACE : LEARNED_POSITIONS_SEARCH_SPACE,
      mutationScale: 0.15,
      evaluate: async (settings, evaluation) => {
        const policy = warmStart.clone();
        try {
          await trainWithRl({
            algorithm: "grpo",
            policy,
            samples: prompts,
            settings,
            steps: options.evolutionSteps,
            batchSize,
            groupSize: options.groupSize,
            seed: evaluation.seed,
          });
          const result = await evaluateGreedy(policy, validation);
          const score = result.accuracy + result.reward / 100;
          candidates.push({
            generation: evaluation.epoch,
            index: evaluation.index,
            settings: { ...settings },
            score,
            accuracy: result.accuracy,
            reward: result.reward,
          });
          return score;
        } finally {
          policy.dispose();
        }
      },
    });
    // The elite is carried into the next generation with its score: it is not evaluated again.
    const elitism = Math.min(1, options.population);
    const pipeline = new EvolutionPipeline({
      config: {
        epochs: options.generations,
        populationSize: options.population,
        selectionRatio: 0.5,
        mutationRate: 0.5,
        elitism,
        seed: deriveSeed(options.seed, "evolution"),
        failOnError: true,
      },
      strategy,
    });
    let done = 0;
    progress.start(options.population + (options.generations - 1) * (options.population - elitism));
    const result = await pipeline.run([defaultRlSettings(rotary)], {
      onProgress: (event) => {
        if (event.type !== "evaluation") return;
        done++;
        progress.update(done, { generation: event.epoch, score: event.score });
      },
    });
    progress.stop();
    const best: RlSettings = { ...result.best };
    const bestRecord = candidates.find((candidate) => candidate.score === result.bestScore);
    const phase: EvolutionPhaseResult = {
      phase: "evolution",
      backend: context.backend,
      durationMs: elapsedSince(started),
      population: options.population,
      generations: result.epochsCompleted,
      stepsPerRun: options.evolutionSteps,
      evaluations: result.evaluations,
      candidates,
      history: result.history.map((stats) => ({
        generation: stats.epoch,
        best: stats.best,
        mean: stats.mean,
        worst: stats.worst,
      })),
      best,
      bestScore: result.bestScore,
    };
    context.log(
      `evolution: ${result.evaluations} short GRPO runs over ${result.epochsCompleted} generations; best settings ` +
        `learningRate=${best.learningRate.toExponential(2)} klCoef=${best.klCoef.toFixed(3)} temperature=${best.temperature.toFixed(2)} ` +
        `(validation accuracy ${formatPercent(bestRecord?.accuracy ?? 0)})`,
    );
    await saveResult(paths, phase);
    return phase;
  } finally {
    progress.stop();
    warmStart.dispose();
  }
}
