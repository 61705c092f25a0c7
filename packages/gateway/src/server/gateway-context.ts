import type { ChatModel } from "@orbiter/types";
import type { EpisodeStore } from "../episodes/episode-store.js";

/** What the route handlers of one gateway share. */
export interface GatewayContext {
  /** The model calls go to. */
  model: ChatModel;
  /** The episodes and their recording. */
  store: EpisodeStore;
  /** Internal problems and request lines; never headers or keys. */
  log: (line: string) => void;
  /** Aborts every in-flight call (on close). */
  inFlight: Set<AbortController>;
  /** How long after a trace's root span its episode ends, in milliseconds. */
  traceGraceMs: number;
  /** Secrets to redact from any message that leaves the gateway. */
  secrets: string[];
}
