import { randomBytes } from "node:crypto";
import { type ChatModel, deriveSeed, InvalidArgumentError, type Sample } from "@orbiter/types";
import type { BackendName } from "../backend/init-backend.js";
import { type ChatGenerator, ChatPolicy } from "../chat/chat-policy.js";
import type { VeRLConfig } from "../config/verl-config.js";
import type { Policy } from "../model/policy.js";
import type { AdamOptimizer } from "../optim/adam-optimizer.js";
import type { TrainerWorkers } from "../parallel/trainer-workers.js";
import { flatTaskGroups } from "../rewards/flat-task-groups.js";
import { rewardMetrics } from "../rewards/reward-metrics.js";
import type { RewardSpec } from "../rewards/reward-spec.js";
import { type RewardScores, scoreRewards } from "../rewards/score-rewards.js";
import { criticWarmupStepsOf } from "../trainer/critic-warm-up.js";
import type { EvaluateOptions, PolicyEvaluation } from "../trainer/evaluate-policy.js";
import { runPolicyUpdate } from "../trainer/policy-update.js";
import type { AgentEpisode } from "./agent-episode.js";
import type { AgentOptions } from "./agent-options.js";
import { type AgentFunction, type RolloutGateway, runAgentEpisodes } from "./agent-rollout.js";
import { checkEpisodesFinished } from "./check-episodes-finished.js";
import {
  buildEpisodeBatch,
  EPISODE_ESTIMATORS,
  type EpisodeRow,
  episodeGeneration,
} from "./episode-batch.js";
import { episodeSequences } from "./episode-sequence.js";

/** Starts a gateway serving `model` (`@orbiter/gateway`'s `startGateway`). */
export type ServeModel = (options: {
  model: ChatModel;
  apiKey: string;
}) => Promise<RolloutGateway & { close(): Promise<void> }>;

/** Inputs of one agent training step. */
export interface AgentStepInput {
  policy: Policy;
  reference: Policy | null;
  optimizer: AdamOptimizer;
  tasks: ReadonlyArray<Sample>;
  step: number;
  klCoef: number;
  learningRate: number;
  signal?: AbortSignal;
  /**
   * The trainer's worker threads (`config.workers`): model calls sampled together have their rows split across
   * them, and so do the reference log-probs and the update's micro-batches. @default this thread alone
   */
  workers?: TrainerWorkers;
  /** The backend the workers run (the trainer's). @default "cpu" */
  backend?: BackendName;
}

/** What one agent training step returns. */
export interface AgentStepResult {
  loss: number;
  reward: number;
  metrics: Record<string, number>;
  /** Mean KL to the reference over the batch (for the adaptive KL controller). */
  meanKl: number;
  /** Rows updated on. */
  rows: number;
  /** Mini-batch updates skipped (non-finite loss or gradient). */
  skipped: number;
}

/** Episodes and their scores. */
interface ScoredEpisodes {
  episodes: AgentEpisode[];
  scores: RewardScores;
  /** Reward-spec total plus posted rewards, or null when every reward abstained (and none was posted). */
  totals: Array<number | null>;
}

const mean = (values: ReadonlyArray<number>): number =>
  values.length === 0 ? 0 : values.reduce((sum, value) => sum + value, 0) / values.length;

/**
 * Agent rollouts inside `VeRLTrainer`: each step serves the current policy through an in-process gateway, runs
 * the user's agent `groupSize` times per task, scores the episodes (reward specs see the final answer and the
 * episode; rewards the agent posted add to the total), turns the finished episodes into masked token sequences
 * and runs the policy update. Failed and timed-out episodes are counted and left out.
 */
export class AgentRunner {
  readonly agent: AgentFunction;
  readonly options: AgentOptions;
  private readonly config: VeRLConfig;
  private readonly rewards: ReadonlyArray<RewardSpec>;
  private readonly serve: ServeModel;
  private readonly apiKey: string;

  constructor(input: {
    agent: AgentFunction;
    options: AgentOptions;
    config: VeRLConfig;
    rewards: ReadonlyArray<RewardSpec>;
    serve: ServeModel;
  }) {
    this.agent = input.agent;
    this.options = input.options;
    this.config = input.config;
    this.rewards = input.rewards;
    this.serve = input.serve;
    this.apiKey = input.options.apiKey ?? randomBytes(16).toString("hex");
    if (!(EPISODE_ESTIMATORS as ReadonlyArray<string>).includes(input.config.advantageEstimator)) {
      throw new InvalidArgumentError(
        `advantageEstimator "${input.config.advantageEstimator}" needs fixed groups; agent episodes train with ${EPISODE_ESTIMATORS.join(", ")}`,
        { field: "config.advantageEstimator", value: input.config.advantageEstimator },
      );
    }
    if (input.config.rewardCombination !== "weighted-sum") {
      // An episode's total is the weighted sum of its rewards plus the rewards the agent posted: no per-reward
      // z-scores exist to normalise over a task's episodes, so the option would be silently ignored.
      throw new InvalidArgumentError(
        `rewardCombination "${input.config.rewardCombination}" is not supported in agent mode: episodes are scored by the weighted sum of their rewards plus the rewards the agent posted`,
        { field: "config.rewardCombination", value: input.config.rewardCombination },
      );
    }
  }

  /**
   * Runs one episode group per task with the policy served by a fresh gateway, then scores them.
   * @throws the sampler's error (e.g. `BackendError` of a worker that died) when sampling a model call failed
   */
  async rollout(
    policy: Policy,
    tasks: ReadonlyArray<Sample>,
    settings: {
      groupSize: number;
      greedy: boolean;
      seed: number;
      prefix: string;
      signal?: AbortSignal;
      generator?: ChatGenerator | null;
    },
  ): Promise<ScoredEpisodes & { chat: ChatPolicy }> {
    const { config, options } = this;
    // A sampler that fails (a worker thread that threw or died, a backend error) fails the step with its error:
    // the agents only see an HTTP 500 and would count every episode as failed, step after step.
    const sampler = settings.generator ?? policy;
    let samplerFailure: { error: unknown } | undefined;
    const generator: ChatGenerator = {
      generate: (prompts, generateOptions) =>
        sampler.generate(prompts, generateOptions).catch((error: unknown) => {
          samplerFailure ??= { error };
          throw error;
        }),
    };
    const chat = new ChatPolicy(policy, {
      generator,
      modelName: options.modelName,
      maxNewTokens: config.maxNewTokens,
      seed: settings.seed,
      override: {
        temperature: config.temperature,
        topP: config.topP,
        topK: config.topK,
        greedy: settings.greedy,
        maxNewTokens: config.maxNewTokens,
        maxTurns: options.maxTurns,
      },
    });
    const gateway = await this.serve({ model: chat, apiKey: this.apiKey });
    let episodes: AgentEpisode[];
    try {
      episodes = await runAgentEpisodes({
        agent: this.agent,
        gateway,
        apiKey: this.apiKey,
        model: options.modelName,
        tasks,
        groupSize: settings.groupSize,
        concurrency: options.concurrency,
        timeoutMs: options.episodeTimeoutMs,
        rolloutPrefix: settings.prefix,
        ...(settings.signal ? { signal: settings.signal } : {}),
      });
    } finally {
      await gateway.close();
    }
    if (samplerFailure !== undefined) throw samplerFailure.error;
    const finished = episodes.filter((episode) => episode.status === "ok");
    const scores = await scoreRewards(
      this.rewards,
      finished.map((episode) => ({ output: episode.answer, sample: episode.task, context: { episode } })),
      { onRewardError: config.onRewardError },
    );
    const totals = finished.map((episode, i) => {
      const posted = episode.postedRewards.reduce((sum, reward) => sum + reward.value, 0);
      const total = scores.totals[i] ?? null;
      if (total === null && episode.postedRewards.length === 0) return null;
      return (total ?? 0) + posted;
    });
    return { episodes, scores, totals, chat };
  }

  /** One training step: rollout, scores, episode batch, policy update. */
  async step(input: AgentStepInput): Promise<AgentStepResult> {
    const { config } = this;
    const started = performance.now();
    const group =
      input.workers === undefined
        ? null
        : await input.workers.ensure(
            config,
            input.policy,
            input.reference,
            input.backend ?? "cpu",
            this.options.maxTurns,
          );
    const { episodes, scores, totals, chat } = await this.rollout(input.policy, input.tasks, {
      generator: group,
      groupSize: config.groupSize,
      greedy: false,
      seed: deriveSeed(config.seed, "rollout", input.step),
      prefix: `step${input.step}`,
      ...(input.signal ? { signal: input.signal } : {}),
    });
    // A step in which every agent threw or timed out has nothing to train on: fail it with the agent's error.
    checkEpisodesFinished(episodes);
    const rolledOut = performance.now();
    const finished = episodes.filter((episode) => episode.status === "ok");
    const rows: EpisodeRow[] = [];
    let prefixBreaks = 0;
    let truncated = 0;
    let dropped = 0;
    // GRPO groups whose episodes all scored the same carry no signal; `filterZeroStdGroups` leaves them out of
    // the update (as in single-turn training), so the informative groups get the whole token-mean.
    const flatGroups = flatTaskGroups(
      totals,
      finished.map((episode) => episode.taskIndex),
    );
    const filterFlat = config.filterZeroStdGroups && config.groupSize > 1;
    finished.forEach((episode, index) => {
      const total = filterFlat && flatGroups.flat.has(episode.taskIndex) ? null : totals[index];
      const built = episodeSequences(episode.calls, { contextLength: input.policy.contextLength });
      prefixBreaks += built.prefixBreaks;
      truncated += built.truncated;
      dropped += built.dropped;
      if (total === null || total === undefined) return;
      for (const sequence of built.sequences) {
        rows.push({ sequence, score: total, episode: index, group: episode.taskIndex });
      }
    });
    let loss = Number.NaN;
    let meanKl = 0;
    let skipped = 0;
    let updateMetrics: Record<string, number> = {};
    if (rows.length > 0) {
      // With workers, the reference model scores the rows split across the threads.
      const referenceLogProbs =
        group !== null && input.reference !== null
          ? await group.referenceLogProbs(
              episodeGeneration(rows, input.policy.tokenizer.padId),
              config.temperature,
            )
          : undefined;
      const { batch, stats } = buildEpisodeBatch({
        config,
        policy: input.policy,
        reference: input.reference,
        rows,
        klCoef: input.klCoef,
        ...(referenceLogProbs === undefined ? {} : { referenceLogProbs }),
      });
      try {
        const update = await runPolicyUpdate({
          config,
          policy: input.policy,
          batch,
          klCoef: input.klCoef,
          learningRate: input.learningRate,
          optimizer: input.optimizer,
          seed: deriveSeed(config.seed, "update", input.step),
          criticOnly: input.step < criticWarmupStepsOf(config),
          ...(group === null ? {} : { workers: group }),
        });
        loss = update.loss;
        skipped = update.skipped;
        meanKl = stats.meanKl;
        updateMetrics = { ...stats.metrics, ...update.metrics };
      } finally {
        batch.dispose();
      }
    }
    const finishedAt = performance.now();
    const metrics: Record<string, number> = {
      ...rewardMetrics(scores),
      ...this.episodeMetrics(episodes, totals, chat),
      ...updateMetrics,
      "episode/prefix_breaks": prefixBreaks,
      "episode/truncated": truncated,
      "episode/dropped_overflow": dropped,
      "episode/rows": rows.length,
      frac_reward_zero_std: config.groupSize > 1 ? flatGroups.fraction : 0,
      "actor/lr": input.learningRate,
      "actor/kl_coef": input.klCoef,
      "actor/reference_kl": meanKl,
      "actor/skipped_updates": skipped,
      "timing/rollout_ms": rolledOut - started,
      "timing/update_ms": finishedAt - rolledOut,
      "timing/step_ms": finishedAt - started,
      "perf/workers": input.workers?.count ?? 1,
      "timing/worker_startup_ms": input.workers?.startupMs ?? 0,
    };
    const scored = totals.filter((total): total is number => total !== null);
    metrics["reward/mean"] = mean(scored);
    return { loss, reward: mean(scored), metrics, meanKl, rows: rows.length, skipped };
  }

  /** verl's multi-turn metrics of a set of episodes. */
  private episodeMetrics(
    episodes: ReadonlyArray<AgentEpisode>,
    totals: ReadonlyArray<number | null>,
    chat: ChatPolicy,
  ): Record<string, number> {
    const finished = episodes.filter((episode) => episode.status === "ok");
    const turns = finished.map((episode) => episode.turns);
    const produced = finished.map((episode) =>
      episode.calls.reduce((sum, call) => sum + (call.result?.choices[0]?.tokenIds?.length ?? 0), 0),
    );
    const successes = totals.filter(
      (total) => total !== null && total >= this.config.accuracyThreshold,
    ).length;
    const counters = chat.counters;
    return {
      "num_turns/mean": mean(turns),
      "num_turns/max": turns.length > 0 ? Math.max(...turns) : 0,
      "num_turns/min": turns.length > 0 ? Math.min(...turns) : 0,
      "tool_call_counts/mean": mean(finished.map((episode) => episode.toolCalls)),
      "episode/success_rate": episodes.length === 0 ? 0 : successes / episodes.length,
      "episode/count": episodes.length,
      "episode/failed": episodes.filter((episode) => episode.status === "failed").length,
      "episode/timeout": episodes.filter((episode) => episode.status === "timeout").length,
      "episode/cut_short": finished.filter((episode) => episode.cutShort).length,
      "episode/malformed_tool_calls": counters.malformedToolCalls,
      "episode/max_turns_reached": counters.turnLimited,
      "episode/context_overflow": counters.overflows,
      "response_length/mean": mean(produced),
      "response_length/max": produced.length > 0 ? Math.max(...produced) : 0,
    };
  }

  /**
   * Runs one episode per task (greedy by default) and reports success (total reward ≥ `accuracyThreshold`),
   * the reward and the multi-turn metrics under `eval/`; `episodes` holds the transcripts. A `generator` (the
   * trainer's running worker group) splits the sampling across threads.
   */
  async evaluate(
    policy: Policy,
    samples: ReadonlyArray<Sample>,
    options: EvaluateOptions = {},
    generator: ChatGenerator | null = null,
  ): Promise<PolicyEvaluation & { episodes: AgentEpisode[] }> {
    const { episodes, scores, totals, chat } = await this.rollout(policy, samples, {
      generator,
      groupSize: options.samplesPerPrompt ?? 1,
      greedy: options.greedy ?? true,
      seed: options.seed ?? deriveSeed(this.config.seed, "evaluate"),
      prefix: "eval",
    });
    const metrics: Record<string, number> = {};
    const summary = { ...rewardMetrics(scores), ...this.episodeMetrics(episodes, totals, chat) };
    for (const [name, value] of Object.entries(summary)) metrics[`eval/${name}`] = value;
    const accuracy = summary["episode/success_rate"] as number;
    metrics["eval/accuracy"] = accuracy;
    const scored = totals.filter((total): total is number => total !== null);
    return {
      reward: mean(scored),
      accuracy,
      metrics,
      outputs: episodes.map((episode) => episode.answer),
      episodes,
    };
  }
}
