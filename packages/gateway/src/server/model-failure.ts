import { AbortedError, InvalidArgumentError, messageOf } from "@orbiter/types";
import { UpstreamError } from "../errors/upstream-error.js";
import { redact } from "../model/upstream-chat-model.js";
import { HttpProblem } from "./openai-error.js";

/**
 * The HTTP answer to a failed model call: 502 for an upstream failure (`upstream_timeout` when it timed out),
 * 400 naming the field when the model rejected the request, 500 for anything else. Secrets are redacted.
 */
export function modelFailure(error: unknown, secrets: ReadonlyArray<string>): HttpProblem {
  if (error instanceof HttpProblem) return error;
  const message = redact(messageOf(error), secrets);
  if (UpstreamError.isInstance(error)) {
    return new HttpProblem(
      502,
      message,
      "upstream_error",
      null,
      error.timedOut ? "upstream_timeout" : "upstream_failed",
    );
  }
  if (InvalidArgumentError.isInstance(error)) {
    return new HttpProblem(400, message, "invalid_request_error", error.field === "" ? null : error.field);
  }
  if (AbortedError.isInstance(error)) return new HttpProblem(503, message, "server_error", null, "aborted");
  return new HttpProblem(500, `model failed: ${message}`, "server_error", null, "model_error");
}
