/**
 * How PPO's critic, the value head on the policy's trunk, is trained (`VeRLConfig.critic`).
 * - `detached`: the head reads the trunk's features under stop-gradient; the value loss trains the head alone and
 *   never changes the policy's log-probabilities (verl's and TRL's separate critic never reach the actor either).
 * - `shared`: the value loss also trains the trunk the policy shares (a one-network actor-critic).
 */
export const CriticMode = {
  DETACHED: "detached",
  SHARED: "shared",
} as const;

/** One of the {@link CriticMode} values. */
export type CriticMode = (typeof CriticMode)[keyof typeof CriticMode];
