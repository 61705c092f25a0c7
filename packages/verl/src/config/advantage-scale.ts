/**
 * How a run scales its advantages, once `VeRLConfig.normalizeAdvantageStd` and `VeRLConfig.whitenAdvantages`
 * are resolved: `"auto"` divides by the spread (GRPO's group std, the GAE batch std) when Adam starts fresh and
 * keeps the raw advantages when Adam starts from carried moments.
 */
export type AdvantageScaleSetting = boolean | "auto";

/**
 * The value an `"auto"` advantage-scale setting takes for a run: `true` (divide by the spread) with a fresh
 * Adam, `false` (keep the advantages' own size) when the optimiser starts from the moments the policy was trained
 * with. A fresh Adam divides each gradient by its own running size, so the advantages' scale barely reaches the
 * step and dividing by the spread costs nothing; carried moments divide the gradient by the warm start's
 * second moment instead, so the step follows the gradient's size, and dividing a near-uniform group by its small
 * sample std (≈ 0.35 for 7 right answers of 8) would make a batch with little signal step as far as one full of it.
 * Functions below the trainer that meet an unresolved `"auto"` divide (the fresh-Adam choice).
 *
 * @param carriedMoments Adam starts from saved moments (`VeRLConfig.carryOptimizerState` or the trainer's
 *   `optimizerState` option) rather than zeros
 */
export function resolveAdvantageScale(setting: AdvantageScaleSetting, carriedMoments: boolean): boolean {
  return setting === "auto" ? !carriedMoments : setting;
}

/**
 * The setting of a resumed run: a configured `"auto"` takes the value the checkpoint recorded (so the run goes on
 * as it started, although its Adam now resumes from saved moments), else stays as configured. A checkpoint
 * without the record was written before `"auto"` existed, by a trainer that divided and whitened unless told
 * otherwise: `"auto"` resumes it dividing (`true`), not as the resumed moments alone would resolve it.
 *
 * @param recorded what the checkpoint holds (anything; a boolean is taken, undefined is a checkpoint without the
 *   record, a recorded `"auto"` — saved before training started — stays to be resolved)
 */
export function resumedAdvantageScale(
  configured: AdvantageScaleSetting,
  recorded: unknown,
): AdvantageScaleSetting {
  if (configured !== "auto") return configured;
  if (recorded === undefined) return true;
  return typeof recorded === "boolean" ? recorded : configured;
}
