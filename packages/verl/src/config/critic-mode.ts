/**
 * How PPO's critic, the value head on the policy's trunk, is trained (`VeRLConfig.critic`).
 * - `auto` (the default): `shared` when the trainer builds its own fresh policy (no `policy` given, no checkpoint
 *   resumed), `detached` when it trains a policy it was given or resumed (a warm start). It is resolved when
 *   training starts; functions below the trainer that meet an unresolved `auto` treat it as `detached`.
 * - `detached`: the head reads the trunk's features under stop-gradient; the value loss trains the head alone and
 *   never changes the policy's log-probabilities (verl's and TRL's separate critic never reach the actor either).
 * - `shared`: the value loss also trains the trunk the policy shares (a one-network actor-critic).
 */
export const CriticMode = {
  AUTO: "auto",
  DETACHED: "detached",
  SHARED: "shared",
} as const;

/** One of the {@link CriticMode} values. */
export type CriticMode = (typeof CriticMode)[keyof typeof CriticMode];

/** A critic mode once `auto` is resolved. */
export type ResolvedCriticMode = Exclude<CriticMode, "auto">;

/**
 * The critic mode a run trains with: `mode` itself unless it is `auto`, which becomes `shared` for a fresh policy
 * (nothing learnt to protect, and a value head on untrained features learns too slowly alone) and `detached` for
 * a warm start (whose features the value loss would otherwise move).
 *
 * @param freshPolicy the trainer built the policy itself from random weights
 */
export function resolveCriticMode(mode: CriticMode, freshPolicy: boolean): ResolvedCriticMode {
  if (mode !== CriticMode.AUTO) return mode;
  return freshPolicy ? CriticMode.SHARED : CriticMode.DETACHED;
}

/**
 * The critic mode of a resumed run: a configured `auto` takes the resolved mode the checkpoint recorded (so that
 * a resumed run trains as it would have straight on), else stays as configured.
 *
 * @param recorded what the checkpoint holds (anything; only `shared` and `detached` are taken)
 */
export function resumedCriticMode(configured: CriticMode, recorded: unknown): CriticMode {
  if (configured !== CriticMode.AUTO) return configured;
  return recorded === CriticMode.SHARED || recorded === CriticMode.DETACHED ? recorded : configured;
}
