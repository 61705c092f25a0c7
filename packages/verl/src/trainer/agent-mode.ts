import { parseWith } from "@orbiter/types";
import { AgentOptions } from "../agent/agent-options.js";
import { AgentRunner } from "../agent/agent-runner.js";
import { serveWithGateway } from "../agent/serve-with-gateway.js";
import type { VeRLConfig } from "../config/verl-config.js";
import type { RewardSpec } from "../rewards/reward-spec.js";
import type { VeRLTrainerOptions } from "./verl-trainer-options.js";

/**
 * The runner of agent mode when `options.agent` is set (undefined otherwise): the user's agent run against the
 * policy served by `options.serve` (default: `startGateway` of `@orbiter/gateway`), with `agentOptions` parsed.
 *
 * @throws InvalidArgumentError naming the field (`agentOptions.maxTurns`) when an agent option is invalid
 */
export function createAgentRunner(
  options: VeRLTrainerOptions,
  config: VeRLConfig,
  rewards: ReadonlyArray<RewardSpec>,
): AgentRunner | undefined {
  if (options.agent === undefined) return undefined;
  return new AgentRunner({
    agent: options.agent,
    options: parseWith(AgentOptions, options.agentOptions ?? {}, {
      what: "agent options",
      path: "agentOptions",
    }),
    config,
    rewards,
    serve: options.serve ?? serveWithGateway,
  });
}
