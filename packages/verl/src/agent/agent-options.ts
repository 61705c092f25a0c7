import { z } from "zod";

/**
 * Options of agent rollouts (`new VeRLTrainer({ agent, agentOptions })`): how episodes run and how long the
 * policy's context is.
 */
export const AgentOptions = z.strictObject({
  /** Most assistant turns per episode; the turn after that is answered empty, which ends a tool loop. @default 4 */
  maxTurns: z.number().int().min(1).default(4),
  /** An episode that runs longer is aborted, counted in `episode/timeout` and left out. @default 60000 */
  episodeTimeoutMs: z.number().int().positive().default(60_000),
  /** Episodes running at once (their model calls are sampled together). @default 16 */
  concurrency: z.number().int().min(1).default(16),
  /** Context length of the default policy in agent mode (prompts grow with every turn). @default 256 */
  contextLength: z.number().int().min(16).default(256),
  /** Bearer key of the in-process gateway. @default a random key per run */
  apiKey: z.string().min(1).optional(),
  /** Model id the policy answers as. @default "orbiter-policy" */
  modelName: z.string().min(1).default("orbiter-policy"),
});

/** Parsed agent options. */
export type AgentOptions = z.output<typeof AgentOptions>;
/** What `agentOptions` accepts: every field optional. */
export type AgentOptionsInput = z.input<typeof AgentOptions>;
