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

/**
 * The Adam a trainer trains with: started at the first step by {@link startOptimizer} from the state it carries
 * (the trainer's `optimizerState` option, or a resumed checkpoint's), then kept from step to step. A resume
 * replaces it, so that the moments and step counts come from the checkpoint alone.
 */
export class TrainerOptimizer {
  private adam: AdamOptimizer | undefined;

  /** @param carried the state the first step starts from (undefined: see {@link startOptimizer}) */
  constructor(private carried: AdamState | undefined) {}

  /** The running Adam, once training has started. */
  get current(): AdamOptimizer | undefined {
    return this.adam;
  }

  /** The running Adam, started on the first call from the carried state (see {@link startOptimizer}). */
  start(policy: Policy, config: VeRLConfig): AdamOptimizer {
    this.adam ??= startOptimizer(policy, config, this.carried);
    this.carried = undefined;
    return this.adam;
  }

  /** Frees the running Adam (it holds the moments of other weights): the next start begins from `state`. */
  restart(state: AdamState | undefined): void {
    this.dispose();
    this.carried = state;
  }

  /** Frees the running Adam's moments. */
  dispose(): void {
    this.adam?.dispose();
    this.adam = undefined;
  }
}
