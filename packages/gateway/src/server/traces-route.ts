import { messageOf } from "@orbiter/types";
import type { FastifyInstance } from "fastify";
import { EpisodeEndedError } from "../errors/episode-ended-error.js";
import { explicitRolloutId, isModelCallSpan, spanToCall } from "../otlp/genai-span.js";
import { type OtlpSpan, readOtlpSpans } from "../otlp/otlp-json.js";
import type { GatewayContext } from "./gateway-context.js";
import { HttpProblem } from "./openai-error.js";

/**
 * Registers `POST /v1/traces`, the OTLP/HTTP (JSON) trace receiver: every GenAI model-call span becomes a
 * recorded call in the episode of its trace id (or of the rollout it names with `orbiter.rollout_id` or the AI
 * SDK's `ai.telemetry.metadata.rolloutId`), in order of start time. When the root span of a trace arrives, the
 * trace's episode ends (after `traceGraceMs`, for spans still on their way). Spans that cannot be read as calls are counted in `partialSuccess`, as OTLP asks.
 */
export function registerTracesRoute(app: FastifyInstance, context: GatewayContext): void {
  app.post("/v1/traces", async (request) => {
    let spans: OtlpSpan[];
    try {
      spans = readOtlpSpans(request.body);
    } catch (error) {
      throw new HttpProblem(400, messageOf(error), "invalid_request_error", "resourceSpans");
    }
    const problems: string[] = [];
    let rejected = 0;
    const calls = spans.filter(isModelCallSpan).sort((a, b) => a.startTimeMs - b.startTimeMs);
    const recordings: Array<Promise<void>> = [];
    for (const span of calls) {
      const read = spanToCall(span);
      if (!read.ok) {
        rejected++;
        problems.push(read.reason);
        continue;
      }
      const rolloutId = explicitRolloutId(span) ?? span.traceId;
      try {
        const ticket = context.store.startCall(rolloutId);
        recordings.push(context.store.finishCall(ticket, { ...read.call, rolloutId, index: ticket.index }));
      } catch (error) {
        if (!EpisodeEndedError.isInstance(error)) throw error;
        rejected++;
        problems.push(`span ${span.spanId}: ${error.message}`);
      }
    }
    await Promise.all(recordings);
    // A trace whose root span arrived is complete: its episode ends (explicitly named rollouts end on request).
    const finished = new Set(
      spans.filter((span) => span.parentSpanId === undefined).map((span) => span.traceId),
    );
    for (const traceId of finished) {
      if (context.store.get(traceId)?.status !== "open") continue;
      // Exporters may send a trace's spans in several concurrent requests: late ones get a short grace.
      if (context.traceGraceMs === 0) await context.store.end(traceId, "end");
      else setTimeout(() => void context.store.end(traceId, "end"), context.traceGraceMs).unref();
    }
    if (rejected === 0) return {};
    if (problems.length > 0) context.log(`OTLP: ${rejected} span(s) not recorded: ${problems.join("; ")}`);
    return { partialSuccess: { rejectedSpans: rejected, errorMessage: problems.slice(0, 10).join("; ") } };
  });
}
