import type { AddressInfo } from "node:net";
import { JsonlSink, type TrajectorySink } from "@orbiter/trajectory";
import { AbortedError, InvalidStateError, messageOf, parseWith } from "@orbiter/types";
import { EpisodeStore } from "./episodes/episode-store.js";
import type { GatewayEpisode } from "./episodes/gateway-episode.js";
import { UpstreamChatModel } from "./model/upstream-chat-model.js";
import { durabilityOf, GatewayOptions } from "./options/gateway-options.js";
import { GroupCommit } from "./recording/group-commit.js";
import { buildServer } from "./server/build-server.js";
import type { GatewayContext } from "./server/gateway-context.js";

/** A running gateway. */
export interface GatewayHandle {
  /** Base URL of the server, e.g. `http://127.0.0.1:43123`; OpenAI clients take `${url}/v1` as `baseURL`. */
  readonly url: string;
  /** The port it listens on. */
  readonly port: number;
  /**
   * Stops accepting calls, waits for in-flight ones (aborting them after `closeGraceMs`), ends every open
   * episode with reason `"close"`, and flushes the record file to disk (and, for `out`, closes it), whatever
   * the durability level.
   */
  close(): Promise<void>;
  /** The live, read-only episode of a rollout (open, or ended and still retained), if any. */
  episode(rolloutId: string): Readonly<GatewayEpisode> | undefined;
  /**
   * Ends a rollout's episode (waiting for its in-flight calls, and for its records to be as durable as the
   * durability level promises an answered call) and returns it; undefined for a rollout never seen. An
   * episode that had already ended is returned as it is.
   */
  endEpisode(rolloutId: string): Promise<GatewayEpisode | undefined>;
}

async function openRecordFile(path: string, log: (line: string) => void): Promise<JsonlSink> {
  // The gateway's GroupCommit decides when lines are written and flushed (without blocking the event loop).
  const sinkOptions = { fsync: "batch" as const, batchSize: 100_000, flushIntervalMs: 0 };
  try {
    return new JsonlSink(path, sinkOptions);
  } catch (error) {
    if (!InvalidStateError.isInstance(error) || error.state !== "torn") throw error;
    // A crash tore the last line: drop it (it was never acknowledged) and append after the complete ones.
    const { report, sink } = await JsonlSink.recover(path, { resume: sinkOptions, onWarning: () => {} });
    if (report.tornLine) log(`dropped the torn last line ${report.tornLine.line} of ${path}`);
    return sink as JsonlSink;
  }
}

function urlHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

/**
 * Starts an OpenAI-compatible gateway that forwards every chat-completions call to `upstream` (or an
 * in-process `model`) and records it: grouped into episodes by rollout id, appended to `out` as trajectory
 * items, and kept in memory for {@link GatewayHandle.episode}.
 *
 * @example
 * ```ts
 * const gateway = await startGateway({ upstream: { baseURL: "http://127.0.0.1:8000/v1" }, out: "calls.jsonl" });
 * const client = new OpenAI({ baseURL: `${gateway.url}/rollouts/run-1/v1`, apiKey: "unused" });
 * await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "hi" }] });
 * const episode = await gateway.endEpisode("run-1"); // episode.calls[0].result.choices[0].message
 * await gateway.close();
 * ```
 */
export async function startGateway(options: GatewayOptions): Promise<GatewayHandle> {
  const parsed = parseWith(GatewayOptions, options, { what: "startGateway options", path: "options" });
  const log = parsed.log ?? (() => {});
  const secrets = [parsed.apiKey, parsed.upstream?.apiKey].filter(
    (value): value is string => value !== undefined,
  );
  const model =
    parsed.model ??
    new UpstreamChatModel(parsed.upstream as NonNullable<typeof parsed.upstream>, {
      forwardClientAuthorization: parsed.apiKey === undefined,
    });
  let sink: TrajectorySink | undefined = parsed.sink;
  const ownsSink = parsed.out !== undefined;
  if (parsed.out !== undefined) sink = await openRecordFile(parsed.out, log);
  const commit = sink
    ? new GroupCommit(sink, {
        durability: durabilityOf(parsed),
        syncIntervalMs: parsed.syncIntervalMs,
        onBackgroundError: (error) =>
          log(`flushing the record file failed, calls are refused from now on: ${messageOf(error)}`),
      })
    : undefined;
  const store = new EpisodeStore({
    commit,
    idleTimeoutMs: parsed.idleTimeoutMs,
    retainEnded: parsed.retainEndedEpisodes,
    onEpisodeEnd: parsed.onEpisodeEnd,
    log,
  });
  const context: GatewayContext = {
    model,
    store,
    log,
    inFlight: new Set(),
    secrets,
    traceGraceMs: parsed.traceGraceMs,
  };
  const app = buildServer(context, {
    bodyLimitBytes: parsed.bodyLimitBytes,
    apiKey: parsed.apiKey,
    logRequests: parsed.logRequests,
  });
  try {
    await app.listen({ host: parsed.host, port: parsed.port });
  } catch (error) {
    if (ownsSink) (sink as JsonlSink).close();
    throw error;
  }
  const port = (app.server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  const close = async () => {
    const closed = app.close();
    const grace = setTimeout(() => {
      for (const controller of context.inFlight) controller.abort(new AbortedError("the gateway is closing"));
    }, parsed.closeGraceMs);
    // Connections kept alive by clients become idle as their last calls finish: close them then.
    const sweep = setInterval(() => app.server.closeIdleConnections(), 20);
    try {
      await closed;
    } finally {
      clearTimeout(grace);
      clearInterval(sweep);
      if (model instanceof UpstreamChatModel) model.close();
      await store.endAll("close");
      try {
        await commit?.sync();
      } finally {
        if (ownsSink) (sink as JsonlSink).close();
        else await sink?.flush?.();
      }
    }
  };
  return {
    url: `http://${urlHost(parsed.host)}:${port}`,
    port,
    close() {
      closing ??= close();
      return closing;
    },
    episode: (rolloutId) => store.get(rolloutId),
    endEpisode: (rolloutId) => store.end(rolloutId, "end"),
  };
}
