import { InvalidArgumentError, parseWith } from "@orbiter/types";
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
 * @throws InvalidArgumentError naming the field (`agentOptions.maxTurns`) when an agent option is invalid, the
 * agent is not a function, or `agentOptions` come without an agent
 */
export function createAgentRunner(
  options: VeRLTrainerOptions,
  config: VeRLConfig,
  rewards: ReadonlyArray<RewardSpec>,
): AgentRunner | undefined {
  if (options.agent === undefined) {
    if (options.agentOptions === undefined) return undefined;
    throw new InvalidArgumentError("agentOptions are the options of agent mode: give an agent too", {
      field: "agentOptions",
    });
  }
  if (typeof options.agent !== "function") {
    throw new InvalidArgumentError("agent must be a function (task, context) => answer", { field: "agent" });
  }
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
