import { InvalidArgumentError } from "@orbiter/types";
import type { VeRLConfig } from "../config/verl-config.js";
import type { Policy } from "../model/policy.js";

/**
 * Checks that `policy` can train with `config`: a value head when the advantages need a critic (`"gae"`), and room
 * in its context for a prompt next to `maxNewTokens`.
 *
 * @throws InvalidArgumentError naming `config.advantageEstimator` or `config.maxNewTokens`
 */
export function checkPolicyFitsConfig(policy: Policy, config: VeRLConfig): void {
  if (config.advantageEstimator === "gae" && !policy.hasValueHead) {
    throw new InvalidArgumentError(
      'advantageEstimator "gae" (PPO) needs a policy with a value head (TransformerPolicy config.valueHead: true)',
      { field: "config.advantageEstimator" },
    );
  }
  if (config.maxNewTokens + 2 > policy.contextLength) {
    throw new InvalidArgumentError(
      `maxNewTokens (${config.maxNewTokens}) leaves no room for a prompt in the context of ${policy.contextLength}`,
      { field: "config.maxNewTokens", value: config.maxNewTokens },
    );
  }
}
