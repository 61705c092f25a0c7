import type { TrajectorySink } from "@orbiter/trajectory";
import { type ChatModel, functionSchema } from "@orbiter/types";
import { z } from "zod";
import type { GatewayEpisode } from "../episodes/gateway-episode.js";
import { UpstreamOptions } from "../model/upstream-chat-model.js";
import { Durability } from "../recording/durability.js";

function isChatModel(value: unknown): value is ChatModel {
  return typeof value === "object" && value !== null && typeof (value as ChatModel).complete === "function";
}

function isSink(value: unknown): value is TrajectorySink {
  return (
    typeof value === "object" && value !== null && typeof (value as TrajectorySink).append === "function"
  );
}

/** Options of `startGateway`. Exactly one of `model` and `upstream`. */
export const GatewayOptions = z
  .strictObject({
    /** An in-process model to serve (e.g. a policy being trained). */
    model: z.custom<ChatModel>(isChatModel, "expected a ChatModel (a complete method)").optional(),
    /** An OpenAI-compatible endpoint to forward calls to. */
    upstream: UpstreamOptions.optional(),
    /**
     * JSON Lines file every call is recorded to (a crash-safe `JsonlSink`, opened for appending). Without `out`
     * or `sink`, episodes are kept in memory only.
     */
    out: z.string().min(1).optional(),
    /** A sink to record to instead of `out` (flushed, not closed, by the gateway). */
    sink: z.custom<TrajectorySink>(isSink, "expected a TrajectorySink (an append method)").optional(),
    /** Interface to listen on. @default "127.0.0.1" */
    host: z.string().min(1).default("127.0.0.1"),
    /** Port to listen on; 0 picks a free one. @default 0 */
    port: z.number().int().min(0).max(65535).default(0),
    /** When set, every route but `/v1/models` needs `Authorization: Bearer <apiKey>`. */
    apiKey: z.string().min(1).optional(),
    /** Largest request body accepted, in bytes; larger ones get 413. @default 10485760 (10 MB) */
    bodyLimitBytes: z
      .number()
      .int()
      .positive()
      .default(10 * 1024 * 1024),
    /** An open episode with no call for this long ends with reason `"idle"`; 0 disables. @default 300000 (5 minutes) */
    idleTimeoutMs: z.number().int().nonnegative().default(300_000),
    /**
     * How long after the root span of an OTLP trace arrives its episode ends, in milliseconds (spans of one trace
     * may come in several concurrent export requests). @default 1000
     */
    traceGraceMs: z.number().int().nonnegative().default(1000),
    /**
     * Ended episodes kept in memory, with their calls, for `episode(id)` (`endEpisode` returns an episode
     * whatever this says; the ids of the last 100,000 ended rollouts are kept apart, to refuse late calls).
     * @default 100
     */
    retainEndedEpisodes: z.number().int().nonnegative().default(100),
    /**
     * When a call is answered, relative to its record reaching the file and the disk. `"written"`: once the
     * record is written to the file (a SIGKILL of the gateway then loses no answered call; an OS crash or power
     * loss may lose the last `syncIntervalMs`); `"synced"`: once it is on disk (`fdatasync`, one for every
     * call that completed meanwhile); `"none"`: at once, written and flushed in the background. See
     * {@link Durability}. @default "written"
     */
    durability: Durability.optional(),
    /**
     * With `"written"` and `"none"`: longest time a record waits for its background disk flush, in
     * milliseconds. @default 100
     */
    syncIntervalMs: z.number().int().positive().max(60_000).default(100),
    /**
     * @deprecated use `durability`: `true` is `"synced"`, `false` is `"none"`. Give at most one of the two.
     */
    syncBeforeResponse: z.boolean().optional(),
    /** How long `close()` waits for in-flight calls before aborting them, in milliseconds. @default 5000 */
    closeGraceMs: z.number().int().nonnegative().default(5000),
    /** Called once for every episode that ends. */
    onEpisodeEnd: functionSchema<(episode: GatewayEpisode) => void>("expected a function").optional(),
    /** Send one line per served request (method, path, status, milliseconds) to `log`. @default false */
    logRequests: z.boolean().default(false),
    /** Receives internal problems (and request lines with `logRequests`); never headers or keys. @default none */
    log: functionSchema<(line: string) => void>("expected a function").optional(),
  })
  .superRefine((options, context) => {
    if ((options.model === undefined) === (options.upstream === undefined)) {
      context.addIssue({
        code: "custom",
        path: [options.model === undefined ? "model" : "upstream"],
        message: "give exactly one of model (an in-process ChatModel) and upstream ({ baseURL })",
      });
    }
    if (options.durability !== undefined && options.syncBeforeResponse !== undefined) {
      context.addIssue({
        code: "custom",
        path: ["syncBeforeResponse"],
        message: "syncBeforeResponse is deprecated and durability replaces it: give durability only",
      });
    }
    if (options.out !== undefined && options.sink !== undefined) {
      context.addIssue({ code: "custom", path: ["sink"], message: "give at most one of out and sink" });
    }
  });
/** The durability level the options ask for: `durability`, else the deprecated `syncBeforeResponse`, else `"written"`. */
export function durabilityOf(options: {
  durability?: Durability | undefined;
  syncBeforeResponse?: boolean | undefined;
}): Durability {
  if (options.durability !== undefined) return options.durability;
  if (options.syncBeforeResponse !== undefined) return options.syncBeforeResponse ? "synced" : "none";
  return "written";
}

/** Options of `startGateway`, as accepted. */
export type GatewayOptions = z.input<typeof GatewayOptions>;
