import { startGateway } from "@orbiter/gateway";
import type { ServeModel } from "./agent-runner.js";

/**
 * The default way agent mode serves the policy: an in-process `@orbiter/gateway` on 127.0.0.1 and a free port,
 * with the run's bearer key, keeping episodes in memory only.
 */
export const serveWithGateway: ServeModel = ({ model, apiKey }) => startGateway({ model, apiKey });
