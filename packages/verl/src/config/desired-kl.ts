/**
 * The per-step KL target `desiredKl: "auto"` gives a warm start (a policy the trainer is given or resumes):
 * on the travel demo's SFT checkpoints it is the per-step KL that GRPO and PPO at 1e-4 showed (median 1e-5 to
 * 4e-5 per token), where 1e-3 runs, which undid the warm start, showed 2e-3 to 1e-2 (`packages/verl/README.md`,
 * "A trust region in policy space").
 */
export const WARM_START_DESIRED_KL = 2e-5;

/** A `VeRLConfig.desiredKl`: a target, `null` (off), or `"auto"` (resolved when training starts). */
export type DesiredKlSetting = number | "auto" | null;

/**
 * The target a run trains with: `setting` itself unless it is `"auto"`, which becomes
 * {@link WARM_START_DESIRED_KL} for a warm start and `null` for a policy the trainer built from random weights
 * (nothing learnt to protect, and such a policy's steps are meant to be large).
 *
 * @param freshPolicy the trainer built the policy itself from random weights
 */
export function resolveDesiredKl(setting: DesiredKlSetting, freshPolicy: boolean): number | null {
  if (setting !== "auto") return setting;
  return freshPolicy ? null : WARM_START_DESIRED_KL;
}

/**
 * The target in force for code below the trainer (the policy update): a number, or `null` for off and for an
 * unresolved `"auto"` (only the trainer, which knows whether the policy is a warm start, resolves it).
 */
export function desiredKlOf(config: { desiredKl: DesiredKlSetting }): number | null {
  return typeof config.desiredKl === "number" ? config.desiredKl : null;
}
