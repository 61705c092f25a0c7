import { OpenAI } from "openai";

/**
 * The official `openai` client as a test drives a server with it: at `baseURL` (e.g. `${gateway.url}/v1` or a
 * rollout's `.../rollouts/<id>/v1`), with no retries, so a refused or failed call fails the test at once instead of
 * being sent again.
 *
 * @param apiKey the bearer key the client sends @default "unused"
 */
export function openAiClient(baseURL: string, apiKey = "unused"): OpenAI {
  return new OpenAI({ baseURL, apiKey, maxRetries: 0 });
}
