import type { Evaluation, FinalCheckpoint, RlPhaseResult, RlRun } from "./demo-results.js";

/**
 * How the demo chooses its final checkpoint, in the words the summary and the report both use. The rule itself is
 * {@link chooseFinal}.
 */
export const FINAL_CHOICE_RULE = "chosen on the validation split";

/**
 * The better RL run on the validation split: PPO when its validation accuracy is strictly higher, else GRPO (GRPO
 * on ties, and when PPO did not run). The test split is never looked at.
 */
export function bestOnValidation<Run extends Pick<RlRun, "validation">>(
  grpo: Run,
  ppo: Run | undefined,
): Run {
  return ppo !== undefined && ppo.validation.accuracy > grpo.validation.accuracy ? ppo : grpo;
}

/**
 * The final checkpoint, chosen on the validation split only: the {@link bestOnValidation} RL run, provided its
 * validation accuracy is at least the warm start's; otherwise the warm start itself, so RL never leaves the demo
 * with a worse policy than it started from.
 */
export function chooseFinal(
  warmStart: Evaluation,
  grpo: Pick<RlRun, "validation">,
  ppo: Pick<RlRun, "validation"> | undefined,
): FinalCheckpoint {
  const best = bestOnValidation(grpo, ppo);
  if (best.validation.accuracy < warmStart.accuracy) return "sft";
  return best === grpo ? "grpo" : "ppo";
}

/** The final checkpoint by name, as the summary and the report print it: `GRPO`, `PPO` or `the SFT warm start`. */
export function finalCheckpointName(final: FinalCheckpoint): string {
  return final === "sft" ? "the SFT warm start" : final.toUpperCase();
}

/** The RL run the RL phase kept as its final checkpoint, or undefined when it kept the warm start. */
export function finalRlRun(rl: Pick<RlPhaseResult, "final" | "grpo" | "ppo">): RlRun | undefined {
  if (rl.final === "sft") return undefined;
  return rl.final === "ppo" && rl.ppo ? rl.ppo : rl.grpo;
}
