import { OrbiterError, type OrbiterErrorOptions } from "@orbiter/types";

const marker = "orbiter.error.EpisodeEndedError";
const symbol = Symbol.for(marker);

/**
 * A call or reward named a rollout whose episode has already ended (by `end`, a reward, the idle timeout or
 * the gateway closing). The gateway answers it with 409.
 */
export class EpisodeEndedError extends OrbiterError {
  /** The rollout concerned. */
  readonly rolloutId: string;

  constructor(rolloutId: string, options: OrbiterErrorOptions = {}) {
    super("ORBITER_EPISODE_ENDED", `rollout "${rolloutId}" has ended; start a new rollout id`, options);
    this.name = "EpisodeEndedError";
    Object.defineProperty(this, symbol, { value: true });
    this.rolloutId = rolloutId;
  }

  static override isInstance(error: unknown): error is EpisodeEndedError {
    return OrbiterError.hasMarker(error, marker);
  }
}
