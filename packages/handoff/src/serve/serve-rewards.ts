import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { InvalidArgumentError, messageOf, OrbiterError, parseWith, type Sample } from "@orbiter/types";
import { parseRewardSpecs, type RewardSpec, type RewardSpecInput } from "@orbiter/verl";
import { z } from "zod";
import { parseBody, ScoreBatchRequest, ScoreRequest, sampleFromCall } from "./score-request.js";

/** Options of {@link serveRewards}. */
export const ServeRewardsOptions = z.strictObject({
  /** Interface to bind. Anything but loopback exposes your reward functions: set `apiKey` then. @default "127.0.0.1" */
  host: z.string().min(1).default("127.0.0.1"),
  /** Port to bind; 0 picks a free one (read it from `url`). @default 0 */
  port: z.number().int().min(0).max(65_535).default(0),
  /** When set, every request needs `Authorization: Bearer <apiKey>`. @default none */
  apiKey: z.string().min(1).optional(),
  /** Requests scored at the same time; later ones wait their turn. @default 8 */
  concurrency: z.number().int().positive().default(8),
  /** Longest a reward function may take on one response before the request fails naming it. @default 30000 */
  timeoutMs: z.number().positive().default(30_000),
  /**
   * What a reward that throws (or returns a non-finite number) does: `"throw"` fails the request with an error
   * naming the reward; `"zero"` scores it 0. A request may choose with `on_reward_error`. @default "throw"
   */
  onRewardError: z.enum(["throw", "zero"]).default("throw"),
  /** Largest request body accepted. @default 16 MiB */
  maxBodyBytes: z
    .number()
    .int()
    .positive()
    .default(16 * 1024 * 1024),
});
/** Options of {@link serveRewards}, as accepted. */
export type ServeRewardsOptions = z.input<typeof ServeRewardsOptions>;

/** A running reward server. */
export interface RewardServer {
  /** Base URL, e.g. `http://127.0.0.1:43817` (IPv6 hosts in brackets). */
  url: string;
  /** Stops accepting connections and resolves once open ones are closed; calling it again is harmless. */
  close(): Promise<void>;
}

/** A failure answered as JSON: `{ error: { type, message, reward?, field? } }`. */
class HttpFailure extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** One response's scores: `score` (weighted sum) and each reward's value (`null` = abstained). */
export type ScoreResult = { score: number } & Record<string, number | null>;

class Semaphore {
  #free: number;
  #waiting: Array<() => void> = [];
  constructor(size: number) {
    this.#free = size;
  }
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#free++;
    }
  }
}

async function callReward(
  reward: RewardSpec,
  output: string,
  sample: Sample,
  timeoutMs: number,
): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new HttpFailure(504, "reward_timeout", `Reward "${reward.name}" took longer than ${timeoutMs} ms`, {
            reward: reward.name,
          }),
        ),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([Promise.resolve().then(() => reward.fn(output, sample, {})), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function scoreOne(
  rewards: ReadonlyArray<RewardSpec>,
  output: string,
  sample: Sample,
  policy: "throw" | "zero",
  timeoutMs: number,
): Promise<ScoreResult> {
  const values = await Promise.all(
    rewards.map(async (reward): Promise<number | null> => {
      let value: unknown;
      try {
        value = await callReward(reward, output, sample, timeoutMs);
      } catch (error) {
        if (policy === "zero") return 0;
        if (error instanceof HttpFailure) throw error;
        const message = messageOf(error);
        throw new HttpFailure(500, "reward_error", `Reward "${reward.name}" threw: ${message}`, {
          reward: reward.name,
        });
      }
      if (value === null || value === undefined) return null;
      if (typeof value !== "number" || !Number.isFinite(value)) {
        if (policy === "zero") return 0;
        throw new HttpFailure(
          500,
          "reward_error",
          `Reward "${reward.name}" returned ${String(value)}, not a finite number`,
          { reward: reward.name },
        );
      }
      return value;
    }),
  );
  const result: Record<string, number | null> = { score: 0 };
  let score = 0;
  rewards.forEach((reward, index) => {
    const value = values[index] as number | null;
    result[reward.name] = value;
    if (value !== null) score += reward.weight * value;
  });
  result.score = score;
  return result as ScoreResult;
}

function keyDigest(key: string): Buffer {
  return createHash("sha256").update(key, "utf8").digest();
}

async function readBody(request: IncomingMessage, limit: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limit)
      throw new HttpFailure(413, "too_large", `The request body is larger than ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new HttpFailure(400, "invalid_request", "The request body is not JSON");
  }
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
  });
  response.end(text);
}

/**
 * Serves TypeScript reward functions over HTTP for verl (or any engine): `POST /score` takes verl's reward
 * arguments `{ data_source, solution_str, ground_truth, extra_info }` and answers `{ score, <reward name>: value, … }`
 * (score = Σ weight·value over the rewards that did not abstain; an abstaining reward's value is `null`);
 * `POST /score/batch` takes `{ data_sources, solution_strs, ground_truths, extra_infos }` and answers
 * `{ results: [...] }`; `GET /health` lists the rewards. Each reward function sees the sample rebuilt by
 * `sampleFromCall` and an empty context (verl's call carries no agent episode); the generated `reward_fn.py` posts
 * here. Errors are JSON `{ error: { type, message, reward?,
 * field? } }`: a reward that throws is a 500 naming it, one that times out a 504, a bad body a 400 naming the
 * field, a missing or wrong bearer key a 401. Binds 127.0.0.1 unless told otherwise.
 *
 * @example
 * ```ts
 * const server = await serveRewards([{ name: "exact", fn: (output, sample) => (output.trim() === sample.output ? 1 : 0) }]);
 * console.log(server.url); // http://127.0.0.1:<port>
 * await server.close();
 * ```
 */
export async function serveRewards(
  rewards: ReadonlyArray<RewardSpecInput>,
  options: ServeRewardsOptions = {},
): Promise<RewardServer> {
  const specs = parseRewardSpecs(rewards);
  specs.forEach((reward, index) => {
    if (reward.name === "score") {
      throw new InvalidArgumentError(
        'A reward may not be named "score": the response uses that key for the total',
        {
          field: `rewards[${index}].name`,
          value: reward.name,
        },
      );
    }
  });
  const config = parseWith(ServeRewardsOptions, options, { what: "serveRewards options", path: "options" });
  const expectedKey = config.apiKey === undefined ? undefined : keyDigest(config.apiKey);
  const gate = new Semaphore(config.concurrency);

  const authorised = (request: IncomingMessage): boolean => {
    if (expectedKey === undefined) return true;
    const header = request.headers.authorization ?? "";
    const match = /^Bearer (.+)$/i.exec(header);
    return match !== null && timingSafeEqual(keyDigest(match[1] as string), expectedKey);
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const path = new URL(request.url ?? "/", "http://localhost").pathname;
    if (!authorised(request)) {
      response.setHeader("www-authenticate", "Bearer");
      throw new HttpFailure(401, "unauthorized", "A valid bearer key is required");
    }
    if (path === "/health") {
      if (request.method !== "GET") throw new HttpFailure(405, "method_not_allowed", "Use GET /health");
      send(response, 200, { ok: true, rewards: specs.map(({ name, weight }) => ({ name, weight })) });
      return;
    }
    if (path !== "/score" && path !== "/score/batch") {
      throw new HttpFailure(404, "not_found", `No route ${path}: use POST /score or POST /score/batch`);
    }
    if (request.method !== "POST") throw new HttpFailure(405, "method_not_allowed", `Use POST ${path}`);
    const body = await readBody(request, config.maxBodyBytes);
    if (path === "/score") {
      const call = parseBody(ScoreRequest, body, "score request");
      const sample = sampleFromCall(call.data_source, call.ground_truth, call.extra_info);
      const policy = call.on_reward_error ?? config.onRewardError;
      send(
        response,
        200,
        await gate.run(() => scoreOne(specs, call.solution_str, sample, policy, config.timeoutMs)),
      );
      return;
    }
    const batch = parseBody(ScoreBatchRequest, body, "batch score request");
    const policy = batch.on_reward_error ?? config.onRewardError;
    const results = await gate.run(() =>
      Promise.all(
        batch.solution_strs.map((output, index) => {
          const sample = sampleFromCall(
            batch.data_sources[index] as string,
            batch.ground_truths[index] as string,
            batch.extra_infos?.[index],
          );
          return scoreOne(specs, output, sample, policy, config.timeoutMs).catch((error: unknown) => {
            if (error instanceof HttpFailure) error.extra.index = index;
            throw error;
          });
        }),
      ),
    );
    send(response, 200, { results });
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (response.headersSent) {
        response.destroy();
        return;
      }
      if (error instanceof HttpFailure) {
        send(response, error.status, { error: { type: error.type, message: error.message, ...error.extra } });
      } else if (InvalidArgumentError.isInstance(error)) {
        send(response, 400, {
          error: { type: "invalid_request", message: error.message, field: error.field },
        });
      } else {
        const message =
          OrbiterError.isInstance(error) || error instanceof Error ? error.message : String(error);
        send(response, 500, { error: { type: "server_error", message } });
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, config.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  let closed: Promise<void> | undefined;
  return {
    url: `http://${host}:${address.port}`,
    // One close for every call: a second close() of a Node server rejects with ERR_SERVER_NOT_RUNNING.
    close: () => {
      closed ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
