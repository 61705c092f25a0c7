import { z } from "zod";
import { randomUuid } from "../random/random-uuid.js";
import { ChatMessage } from "./chat-message.js";
import { JsonObject } from "./json.js";

/**
 * One State-Action-Reward step of an agent: what the agent saw, what it did and how good that was.
 *
 * `id` and `timestamp` (milliseconds since the epoch) are filled in when absent. Unknown keys are rejected.
 *
 * @example
 * ```ts
 * const item = TrajectoryItem.parse({ state: "User asks about Python", action: "search('Python')", reward: 0.8 });
 * ```
 */
export const TrajectoryItem = z.strictObject({
  /** Unique id. @default a random UUID */
  id: z
    .string()
    .min(1)
    .default(() => randomUuid()),
  /** Capture time, milliseconds since the epoch. @default Date.now() */
  timestamp: z
    .number()
    .int()
    .nonnegative()
    .default(() => Date.now()),
  /** What the agent observed (prompt, conversation so far, environment state). */
  state: z.string(),
  /** What the agent did (its answer, tool call, command). */
  action: z.string(),
  /** How good the action was. Must be finite. */
  reward: z.number(),
  /** Free-form JSON metadata. @default {} */
  metadata: JsonObject.default(() => ({})),
  /** The task this step belongs to. */
  taskId: z.string().optional(),
  /** The agent that acted. */
  agentId: z.string().optional(),
  /** The episode (one attempt at a task) this step belongs to. */
  episodeId: z.string().optional(),
  /** Position of the step inside its episode, from 0. */
  step: z.number().int().nonnegative().optional(),
  /** Outcome label of the step, e.g. `"success"`, `"failure"`, `"error"`. */
  status: z.string().optional(),
  /** The conversation in the OpenAI chat format, tool calls included. */
  messages: z.array(ChatMessage).optional(),
});

/** A validated trajectory item (id, timestamp and metadata always present). */
export type TrajectoryItem = z.output<typeof TrajectoryItem>;
/** What `capture` accepts: a trajectory item whose id, timestamp and metadata may be omitted. */
export type TrajectoryItemInput = z.input<typeof TrajectoryItem>;
