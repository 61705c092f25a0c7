import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from "fastify";
import { EpisodeEndedError } from "../errors/episode-ended-error.js";
import { BearerAuth } from "./bearer-auth.js";
import { handleChatCompletion } from "./chat-completions.js";
import type { GatewayContext } from "./gateway-context.js";
import { modelFailure } from "./model-failure.js";
import { HttpProblem, openAiError } from "./openai-error.js";
import { readJsonBody } from "./request-body.js";
import { checkRolloutId } from "./rollout-id.js";
import { registerRolloutRoutes } from "./rollout-routes.js";
import { registerTracesRoute } from "./traces-route.js";

/** Settings of the HTTP server. */
export interface ServerSettings {
  bodyLimitBytes: number;
  apiKey: string | undefined;
  /** Log one line per request through the context's `log`. */
  logRequests: boolean;
}

function problemOf(error: unknown, context: GatewayContext): HttpProblem {
  if (error instanceof HttpProblem) return error;
  if (EpisodeEndedError.isInstance(error)) {
    return new HttpProblem(409, error.message, "conflict_error", "rolloutId", "rollout_ended");
  }
  const fastify = error as FastifyError;
  if (fastify.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
    return new HttpProblem(
      413,
      "The request body is larger than the gateway accepts",
      "invalid_request_error",
      null,
      "body_too_large",
    );
  }
  if (fastify.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE") {
    return new HttpProblem(415, "Unsupported content type: send application/json", "invalid_request_error");
  }
  if (typeof fastify.statusCode === "number" && fastify.statusCode >= 400 && fastify.statusCode < 500) {
    return new HttpProblem(fastify.statusCode, fastify.message, "invalid_request_error");
  }
  const problem = modelFailure(error, context.secrets);
  // What the upstream did wrong is not the gateway's own failure; the message is the redacted one sent back.
  const kind = problem.body.error.type === "upstream_error" ? "upstream error" : "internal error";
  context.log(`${kind}: ${problem.message}`);
  return problem;
}

/**
 * The gateway's HTTP server on Fastify: the OpenAI-compatible routes at `/v1` and `/rollouts/{id}/v1`, the
 * rollout routes, bearer-key checks, body limit, and OpenAI-style error bodies for every failure.
 */
export function buildServer(context: GatewayContext, settings: ServerSettings): FastifyInstance {
  const app = Fastify({
    bodyLimit: settings.bodyLimitBytes,
    logger: false,
    return503OnClosing: true,
    // Rollout ids may be 200 characters (the router's default stops at 100); what the router still refuses gets
    // an OpenAI-style body like every other failure.
    routerOptions: { maxParamLength: 200 },
    frameworkErrors: (error, _request, reply) => {
      const param = error.code === "FST_ERR_MAX_PARAM_LENGTH" ? "rolloutId" : null;
      const message = param ? "Invalid rolloutId: a rollout id is 1-200 characters" : error.message;
      void (reply as FastifyReply).code(400).send(openAiError(message, "invalid_request_error", param));
    },
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer" }, (request, body, done) => {
    try {
      const { "content-type": type, "content-encoding": encoding } = request.headers;
      done(null, readJsonBody(body as Buffer, type, encoding, settings.bodyLimitBytes));
    } catch (error) {
      done(error as Error, undefined);
    }
  });

  if (settings.apiKey !== undefined) {
    const auth = new BearerAuth(settings.apiKey);
    app.addHook("onRequest", async (request, reply) => {
      if ((request.routeOptions.config as { public?: boolean } | undefined)?.public) return;
      if (!auth.accepts(request.headers.authorization)) {
        await reply
          .code(401)
          .send(
            openAiError(
              "Missing or invalid API key: send Authorization: Bearer <key>",
              "authentication_error",
              null,
              "invalid_api_key",
            ),
          );
      }
    });
  }

  if (settings.logRequests) {
    app.addHook("onResponse", async (request, reply) => {
      const path = request.url.split("?")[0];
      context.log(`${request.method} ${path} ${reply.statusCode} ${reply.elapsedTime.toFixed(1)}ms`);
    });
  }

  app.setErrorHandler(async (error, _request, reply) => {
    const problem = problemOf(error, context);
    await reply.code(problem.status).send(problem.body);
  });
  app.setNotFoundHandler(async (request, reply) => {
    await reply
      .code(404)
      .send(openAiError(`No route ${request.method} ${request.url.split("?")[0]}`, "not_found_error"));
  });

  const listModels = async (request: FastifyRequest) => {
    const { authorization } = request.headers;
    const ids = context.model.listModels
      ? await context.model.listModels(authorization === undefined ? {} : { headers: { authorization } })
      : [];
    return {
      object: "list",
      data: ids.map((id) => ({ id, object: "model", created: 0, owned_by: "orbiter" })),
    };
  };
  app.get("/v1/models", { config: { public: true } }, listModels);
  app.get("/rollouts/:rolloutId/v1/models", { config: { public: true } }, listModels);
  app.post("/v1/chat/completions", (request, reply) =>
    handleChatCompletion(context, request, reply, undefined),
  );
  app.post("/rollouts/:rolloutId/v1/chat/completions", (request, reply) =>
    handleChatCompletion(
      context,
      request,
      reply,
      checkRolloutId((request.params as { rolloutId?: unknown }).rolloutId, "rolloutId"),
    ),
  );
  registerRolloutRoutes(app, context);
  registerTracesRoute(app, context);
  return app;
}
