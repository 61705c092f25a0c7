import { HttpProblem } from "./openai-error.js";

const ROLLOUT_ID = /^[A-Za-z0-9._:~-]{1,200}$/;

/** Header naming the rollout of a plain `/v1/...` call. */
export const ROLLOUT_HEADER = "x-orbiter-rollout-id";

/**
 * Checks a rollout id: 1–200 characters among letters, digits and `. _ : ~ -` (safe in a URL path and a file).
 * Throws a 400 {@link HttpProblem} naming `param` otherwise.
 */
export function checkRolloutId(value: unknown, param: string): string {
  if (typeof value !== "string" || !ROLLOUT_ID.test(value)) {
    throw new HttpProblem(
      400,
      `Invalid ${param}: a rollout id is 1-200 characters among letters, digits and . _ : ~ -`,
      "invalid_request_error",
      param,
    );
  }
  return value;
}
