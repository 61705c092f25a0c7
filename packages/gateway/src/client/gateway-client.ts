import { InvalidArgumentError, messageOf, parseWith } from "@orbiter/types";
import { z } from "zod";
import { GatewayRequestError } from "../errors/gateway-request-error.js";

/** Options of {@link createGatewayClient}. */
export const GatewayClientOptions = z.strictObject({
  /** The gateway's base URL (what `startGateway` returns as `url`, or what the CLI prints). */
  url: z.url({ protocol: /^https?$/ }),
  /** The gateway's API key, when it has one. */
  apiKey: z.string().min(1).optional(),
});
/** Options of {@link createGatewayClient}, as accepted. */
export type GatewayClientOptions = z.input<typeof GatewayClientOptions>;

/** An episode as the gateway's rollout routes describe it. */
export interface EpisodeSummary {
  rolloutId: string;
  status: "open" | "ended";
  endReason: "end" | "reward" | "idle" | "close" | null;
  /** Number of recorded calls. */
  calls: number;
  /** Calls that failed or were aborted. */
  failedCalls: number;
  rewards: Array<{ value: number; name?: string }>;
  /** Sum of the rewards. */
  reward: number;
}

/** A small typed client of a gateway's rollout routes. */
export interface GatewayClient {
  /** The `baseURL` to give an OpenAI-compatible client so its calls form the episode of `rolloutId`. */
  rolloutUrl(rolloutId: string): string;
  /**
   * Attaches a reward to the episode of `rolloutId` and (unless `end: false`) ends it.
   * @example await gateway.reward("run-1", 1, { name: "tests-pass" });
   */
  reward(
    rolloutId: string,
    value: number,
    options?: { name?: string; end?: boolean },
  ): Promise<EpisodeSummary>;
  /** Ends the episode of `rolloutId`. */
  end(rolloutId: string): Promise<EpisodeSummary>;
  /** Reads the episode of `rolloutId`. */
  episode(rolloutId: string): Promise<EpisodeSummary>;
}

/**
 * A client of a running gateway's rollout routes.
 *
 * @example
 * ```ts
 * const gateway = createGatewayClient({ url: "http://127.0.0.1:4000" });
 * const openai = new OpenAI({ baseURL: gateway.rolloutUrl("run-1"), apiKey: "unused" });
 * // ... the agent runs ...
 * await gateway.reward("run-1", 1); // and the episode ends
 * ```
 */
export function createGatewayClient(options: GatewayClientOptions): GatewayClient {
  const parsed = parseWith(GatewayClientOptions, options, {
    what: "gateway client options",
    path: "options",
  });
  const base = parsed.url.replace(/\/+$/, "");
  const headers: Record<string, string> = {};
  if (parsed.apiKey !== undefined) headers.authorization = `Bearer ${parsed.apiKey}`;
  const rolloutPath = (rolloutId: string) => `${base}/rollouts/${encodeURIComponent(rolloutId)}`;

  async function request(method: string, url: string, body?: unknown): Promise<EpisodeSummary> {
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: body === undefined ? headers : { ...headers, "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      throw new GatewayRequestError(`gateway unreachable at ${base}: ${messageOf(error)}`, {
        cause: error,
      });
    }
    const json = (await response.json().catch(() => undefined)) as
      | { error?: { message?: string; type?: string } }
      | undefined;
    if (!response.ok) {
      throw new GatewayRequestError(
        `gateway answered ${response.status}: ${json?.error?.message ?? response.statusText}`,
        { status: response.status, ...(json?.error?.type ? { type: json.error.type } : {}) },
      );
    }
    return json as EpisodeSummary;
  }

  return {
    rolloutUrl: (rolloutId) => `${rolloutPath(rolloutId)}/v1`,
    reward: async (rolloutId, value, extra = {}) => {
      // JSON has no NaN or Infinity: sent, they would arrive as null and be refused with a puzzling message.
      if (typeof value !== "number" || !Number.isFinite(value)) {
        throw new InvalidArgumentError(`reward must be a finite number, got ${String(value)}`, {
          field: "reward",
          value,
        });
      }
      return request("POST", `${rolloutPath(rolloutId)}/reward`, { reward: value, ...extra });
    },
    end: (rolloutId) => request("POST", `${rolloutPath(rolloutId)}/end`),
    episode: (rolloutId) => request("GET", rolloutPath(rolloutId)),
  };
}
