import { CheckpointError } from "@orbiter/types";
import { resolveAdvantageScale } from "../config/advantage-scale.js";
import type { VeRLConfig } from "../config/verl-config.js";
import type { Policy } from "../model/policy.js";
import { AdamOptimizer, type AdamState } from "../optim/adam-optimizer.js";

/**
 * Builds the Adam a run trains with (`learningRate`, `adamEpsilon`) and starts it from the carried state: the
 * `given` one (the trainer's `optimizerState` option, or a resumed checkpoint's), else the moments saved with
 * the policy when `config.carryOptimizerState` is on, else zeros. Then resolves the `"auto"` advantage scaling of
 * `config` in place (see `resolveAdvantageScale`): off with carried moments, on with a fresh Adam.
 *
 * @throws CheckpointError when the carried moments do not match the policy's parameters (names or shapes)
 */
export function startOptimizer(
  policy: Policy,
  config: VeRLConfig,
  given: AdamState | undefined,
): AdamOptimizer {
  const saved = config.carryOptimizerState ? policy.optimizerState : undefined;
  const state = given ?? saved;
  const optimizer = new AdamOptimizer(policy.parameters(), {
    learningRate: config.learningRate,
    epsilon: config.adamEpsilon,
  });
  if (state !== undefined) {
    try {
      optimizer.setState(state);
    } catch (error) {
      optimizer.dispose();
      if (given !== undefined) throw error;
      throw new CheckpointError(
        `The Adam state saved with the policy does not fit it (set config.carryOptimizerState to false to start a fresh Adam): ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
  config.normalizeAdvantageStd = resolveAdvantageScale(config.normalizeAdvantageStd, state !== undefined);
  config.whitenAdvantages = resolveAdvantageScale(config.whitenAdvantages, state !== undefined);
  return optimizer;
}
