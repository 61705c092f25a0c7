import { toInvalidArgumentError } from "@orbiter/types";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { GatewayEpisode } from "../episodes/gateway-episode.js";
import type { GatewayContext } from "./gateway-context.js";
import { HttpProblem } from "./openai-error.js";
import { checkRolloutId } from "./rollout-id.js";

/** Body of `POST /rollouts/{rolloutId}/reward`. */
export const RewardBody = z.strictObject({
  /** The reward; a finite number. */
  reward: z.number(),
  /** Name of the reward (e.g. the verifier), kept in the record. */
  name: z.string().min(1).max(200).optional(),
  /** End the episode with this reward. @default true */
  end: z.boolean().default(true),
});

/** What the rollout routes answer: the episode in short. */
export function episodeSummary(episode: GatewayEpisode) {
  return {
    rolloutId: episode.rolloutId,
    status: episode.status,
    endReason: episode.endReason ?? null,
    calls: episode.calls.length,
    failedCalls: episode.calls.filter((call) => call.status !== "ok").length,
    rewards: episode.rewards,
    reward: episode.rewards.reduce((sum, reward) => sum + reward.value, 0),
  };
}

function paramRolloutId(params: unknown): string {
  return checkRolloutId((params as { rolloutId?: unknown }).rolloutId, "rolloutId");
}

/** Registers `POST /rollouts/:id/reward`, `POST /rollouts/:id/end` and `GET /rollouts/:id`. */
export function registerRolloutRoutes(app: FastifyInstance, context: GatewayContext): void {
  app.post("/rollouts/:rolloutId/reward", async (request) => {
    const rolloutId = paramRolloutId(request.params);
    const parsed = RewardBody.safeParse(request.body ?? {});
    if (!parsed.success) {
      const error = toInvalidArgumentError(parsed.error, { what: "reward" });
      throw new HttpProblem(400, error.message, "invalid_request_error", error.field || null);
    }
    const { reward, name, end } = parsed.data;
    const episode = await context.store.reward(rolloutId, reward, name, end);
    return episodeSummary(episode);
  });

  app.post("/rollouts/:rolloutId/end", async (request) => {
    const rolloutId = paramRolloutId(request.params);
    const episode = await context.store.end(rolloutId, "end");
    if (!episode)
      throw new HttpProblem(404, `no episode for rollout "${rolloutId}"`, "not_found_error", "rolloutId");
    return episodeSummary(episode);
  });

  app.get("/rollouts/:rolloutId", async (request) => {
    const rolloutId = paramRolloutId(request.params);
    const episode = context.store.get(rolloutId);
    if (!episode)
      throw new HttpProblem(404, `no episode for rollout "${rolloutId}"`, "not_found_error", "rolloutId");
    return episodeSummary(episode);
  });
}
