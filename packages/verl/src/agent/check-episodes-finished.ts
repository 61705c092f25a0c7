import { GenerationError, messageOf } from "@orbiter/types";
import type { AgentEpisode } from "./agent-episode.js";

/**
 * Throws a `GenerationError` when a training step ran episodes and none of them finished (every agent threw or
 * ran out of time): an update over nothing would hide a broken agent behind zeros, step after step. The first
 * failure is the error's `cause`. (An evaluation reports such episodes instead: a baseline may fail them all.)
 */
export function checkEpisodesFinished(episodes: ReadonlyArray<AgentEpisode>): void {
  if (episodes.length === 0 || episodes.some((episode) => episode.status === "ok")) return;
  const failed = episodes.filter((episode) => episode.status === "failed");
  const first = failed.find((episode) => episode.error !== undefined)?.error;
  throw new GenerationError(
    `all ${episodes.length} episodes of the step failed or timed out (${failed.length} failed, ` +
      `${episodes.length - failed.length} timed out)${first === undefined ? "" : `; the first failure: ${messageOf(first)}`}`,
    first === undefined ? {} : { cause: first },
  );
}
