import { messageOf, randomUuid, type TrajectoryItem } from "@orbiter/types";
import { EpisodeEndedError } from "../errors/episode-ended-error.js";
import { callToItem, rewardRevision } from "../recording/call-item.js";
import type { GroupCommit } from "../recording/group-commit.js";
import type { EpisodeEndReason, GatewayEpisode, RecordedCall } from "./gateway-episode.js";

/** How many ended rollout ids are remembered to refuse late calls (about 100 bytes each). */
const ENDED_IDS_KEPT = 100_000;

/** Settings of an {@link EpisodeStore}. */
export interface EpisodeStoreSettings {
  /** Where calls are recorded; undefined keeps episodes in memory only. */
  commit: GroupCommit | undefined;
  /** An open episode with no call for this long ends (`"idle"`); 0 never. */
  idleTimeoutMs: number;
  /** How many ended episodes (with their calls) stay readable through `get`. */
  retainEnded: number;
  /** Called once per ended episode. */
  onEpisodeEnd: ((episode: GatewayEpisode) => void) | undefined;
  /** Where a failing `onEpisodeEnd` is reported. */
  log: (message: string) => void;
}

/** A call that has started and must be finished with {@link EpisodeStore.finishCall}. */
export interface CallTicket {
  rolloutId: string;
  index: number;
  /** True for a call that named no rollout: its episode ends with it. */
  ephemeral: boolean;
}

interface OpenEpisode {
  episode: GatewayEpisode;
  nextIndex: number;
  inFlight: number;
  settled: Array<() => void>;
  lastItem: TrajectoryItem | undefined;
  idleTimer: ReturnType<typeof setTimeout> | undefined;
  ending: Promise<GatewayEpisode> | undefined;
  /** A one-call episode under a generated id. */
  ephemeral: boolean;
}

/**
 * The episodes of a gateway: groups calls by rollout id, numbers them, records each as a trajectory item when
 * it finishes, and ends episodes (on request, on a reward, after an idle time, or when the gateway closes),
 * writing the reward as a revision of the episode's last item.
 */
export class EpisodeStore {
  readonly #settings: EpisodeStoreSettings;
  readonly #open = new Map<string, OpenEpisode>();
  readonly #ended = new Map<string, GatewayEpisode>();
  /** Ids of ended rollouts (many more than the episodes kept), so a late call to one gets 409. */
  readonly #endedIds = new Set<string>();

  constructor(settings: EpisodeStoreSettings) {
    this.#settings = settings;
  }

  /** Number of episodes still open. */
  get openCount(): number {
    return this.#open.size;
  }

  /** The live episode of `rolloutId` (open, or ended and still retained), if any. */
  get(rolloutId: string): GatewayEpisode | undefined {
    return this.#open.get(rolloutId)?.episode ?? this.#ended.get(rolloutId);
  }

  #openEpisode(rolloutId: string, ephemeral = false): OpenEpisode {
    let state = this.#open.get(rolloutId);
    if (state) {
      if (state.ending) throw new EpisodeEndedError(rolloutId);
      return state;
    }
    if (this.#endedIds.has(rolloutId)) throw new EpisodeEndedError(rolloutId);
    state = {
      episode: { rolloutId, calls: [], rewards: [], status: "open" },
      nextIndex: 0,
      inFlight: 0,
      settled: [],
      lastItem: undefined,
      idleTimer: undefined,
      ending: undefined,
      ephemeral,
    };
    this.#open.set(rolloutId, state);
    return state;
  }

  /** Starts a call in the episode of `rolloutId` (a new one-call episode when undefined). */
  startCall(rolloutId: string | undefined): CallTicket {
    const ephemeral = rolloutId === undefined;
    const id = rolloutId ?? `call-${randomUuid()}`;
    const state = this.#openEpisode(id, ephemeral);
    if (state.idleTimer) clearTimeout(state.idleTimer);
    state.idleTimer = undefined;
    state.inFlight++;
    return { rolloutId: id, index: state.nextIndex++, ephemeral };
  }

  /**
   * Finishes a started call: adds it to its episode and records it. Resolves once its item is durable (at
   * once without recording); rejects when recording failed.
   */
  async finishCall(ticket: CallTicket, call: RecordedCall): Promise<void> {
    const state = this.#open.get(ticket.rolloutId);
    if (!state) return;
    try {
      const calls = state.episode.calls;
      calls.push(call);
      if (calls.length > 1 && (calls.at(-2) as RecordedCall).index > call.index) {
        calls.sort((a, b) => a.index - b.index);
      }
      const commit = this.#settings.commit;
      if (commit) {
        const item = callToItem(call, randomUuid());
        if (!state.lastItem || (state.lastItem.step ?? -1) < call.index) state.lastItem = item;
        await commit.append(item);
      }
    } finally {
      state.inFlight--;
      if (state.inFlight === 0) {
        for (const resolve of state.settled.splice(0)) resolve();
        if (ticket.ephemeral) void this.end(ticket.rolloutId, "end");
        else if (!state.ending) this.#armIdle(ticket.rolloutId, state);
      }
    }
  }

  #armIdle(rolloutId: string, state: OpenEpisode): void {
    const idle = this.#settings.idleTimeoutMs;
    if (idle <= 0) return;
    if (state.idleTimer) clearTimeout(state.idleTimer);
    state.idleTimer = setTimeout(() => {
      state.idleTimer = undefined;
      if (state.inFlight === 0) void this.end(rolloutId, "idle");
    }, idle);
    state.idleTimer.unref();
  }

  /**
   * Adds a reward to the episode of `rolloutId` (creating it when no call came yet) and, unless `end` is false,
   * ends it. Throws `EpisodeEndedError` when the episode has ended.
   */
  async reward(
    rolloutId: string,
    value: number,
    name: string | undefined,
    end = true,
  ): Promise<GatewayEpisode> {
    const state = this.#openEpisode(rolloutId);
    state.episode.rewards.push(name === undefined ? { value } : { value, name });
    if (end) return this.end(rolloutId, "reward") as Promise<GatewayEpisode>;
    if (state.inFlight === 0) this.#armIdle(rolloutId, state);
    return state.episode;
  }

  /**
   * Ends the episode of `rolloutId`: new calls to it are refused, in-flight ones are waited for, its reward is
   * written as a revision of its last item, and its records are made as durable as the level promises.
   * Returns the ended episode (an episode that had already ended is returned as it is), or undefined for an
   * unknown rollout.
   */
  end(rolloutId: string, reason: EpisodeEndReason): Promise<GatewayEpisode | undefined> {
    const state = this.#open.get(rolloutId);
    if (!state) return Promise.resolve(this.#ended.get(rolloutId));
    state.ending ??= this.#finishEpisode(rolloutId, state, reason);
    return state.ending;
  }

  async #finishEpisode(
    rolloutId: string,
    state: OpenEpisode,
    reason: EpisodeEndReason,
  ): Promise<GatewayEpisode> {
    if (state.idleTimer) clearTimeout(state.idleTimer);
    state.idleTimer = undefined;
    if (state.inFlight > 0) await new Promise<void>((resolve) => state.settled.push(resolve));
    const { episode } = state;
    const commit = this.#settings.commit;
    try {
      if (commit) {
        if (episode.rewards.length > 0 && state.lastItem) {
          await commit.append(rewardRevision(state.lastItem, episode.rewards));
        } else await commit.drain();
      }
    } finally {
      state.lastItem = undefined;
      episode.status = "ended";
      episode.endReason = reason;
      this.#open.delete(rolloutId);
      this.#ended.set(rolloutId, episode);
      if (this.#ended.size > this.#settings.retainEnded) {
        this.#ended.delete(this.#ended.keys().next().value as string);
      }
      // Ephemeral (one-call) episodes have generated ids nobody can name again: no need to remember them.
      if (!state.ephemeral) {
        this.#endedIds.add(rolloutId);
        if (this.#endedIds.size > ENDED_IDS_KEPT)
          this.#endedIds.delete(this.#endedIds.values().next().value as string);
      }
    }
    try {
      this.#settings.onEpisodeEnd?.(episode);
    } catch (error) {
      this.#settings.log(`onEpisodeEnd threw for rollout ${rolloutId}: ${messageOf(error)}`);
    }
    return episode;
  }

  /** Ends every open episode with `reason` (the gateway is closing). */
  async endAll(reason: EpisodeEndReason): Promise<void> {
    await Promise.allSettled([...this.#open.keys()].map((rolloutId) => this.end(rolloutId, reason)));
  }
}
