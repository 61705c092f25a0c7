import type { Sample } from "@orbiter/types";
import { parseWith } from "@orbiter/types";
import { VeRLConfig, type VeRLConfigInput } from "../config/verl-config.js";
import type { Policy } from "../model/policy.js";
import { parseRewardSpecs, type RewardSpecInput } from "../rewards/reward-spec.js";
import type { EvaluateOptions, PolicyEvaluation } from "../trainer/evaluate-policy.js";
import type { AgentEpisode } from "./agent-episode.js";
import { AgentOptions, type AgentOptionsInput } from "./agent-options.js";
import type { AgentFunction } from "./agent-rollout.js";
import { AgentRunner, type ServeModel } from "./agent-runner.js";
import { serveWithGateway } from "./serve-with-gateway.js";

/** What {@link evaluateAgent} needs. */
export interface EvaluateAgentInput {
  /** The policy the agent talks to. */
  policy: Policy;
  /** The user's agent. */
  agent: AgentFunction;
  /** Rewards of an episode (final answer, task, episode). */
  rewards: ReadonlyArray<RewardSpecInput>;
  /** The tasks. */
  samples: ReadonlyArray<Sample>;
  /** Sampling settings (`maxNewTokens`, `temperature`, `topP`, `topK`), `accuracyThreshold`, `seed`. @default {} */
  config?: VeRLConfigInput;
  /** Episode settings. @default {} */
  agentOptions?: AgentOptionsInput;
  /** How the policy is served. @default the in-process gateway */
  serve?: ServeModel;
  /** Greedy (default) or sampled, episodes per task, seed. */
  options?: EvaluateOptions;
}

/**
 * Evaluates the user's agent running on `policy`: one episode per task (greedy by default), scored by the
 * rewards; `accuracy` is the share of episodes whose total reward reaches `accuracyThreshold`. The metrics are
 * verl's multi-turn ones under `eval/` (`eval/num_turns/mean`, `eval/tool_call_counts/mean`, …) and `episodes`
 * holds every transcript.
 *
 * @example
 * ```ts
 * const result = await evaluateAgent({ policy, agent: myAgent, rewards, samples: testTasks });
 * console.log(result.accuracy, result.metrics["eval/num_turns/mean"], result.episodes[0]?.messages);
 * ```
 */
export async function evaluateAgent(
  input: EvaluateAgentInput,
): Promise<PolicyEvaluation & { episodes: AgentEpisode[] }> {
  const runner = new AgentRunner({
    agent: input.agent,
    options: parseWith(AgentOptions, input.agentOptions ?? {}, {
      what: "agent options",
      path: "agentOptions",
    }),
    config: parseWith(VeRLConfig, input.config ?? {}, { what: "VeRLConfig", path: "config" }),
    rewards: parseRewardSpecs(input.rewards),
    serve: input.serve ?? serveWithGateway,
  });
  return runner.evaluate(input.policy, input.samples, input.options ?? {});
}
