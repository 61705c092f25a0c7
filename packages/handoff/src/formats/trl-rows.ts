import { ToolDefinition } from "@orbiter/types";
import { z } from "zod";
import { DatasetMessage } from "./dataset-message.js";

const Messages = z.array(DatasetMessage).min(1, { message: "Expected at least one message" });
/** A TRL prompt or completion: plain text (standard) or chat messages (conversational). */
const TextOrMessages = z.union([z.string(), Messages]);

function sameKind(values: ReadonlyArray<unknown>): boolean {
  return values.every((value) => typeof value === "string") || values.every((value) => Array.isArray(value));
}

/** TRL's conversational language-modelling row (`SFTTrainer`): the whole conversation, and the tools it may call. */
export const TrlConversationalRow = z.strictObject({
  messages: Messages,
  tools: z.array(ToolDefinition).optional(),
});
/** TRL's conversational language-modelling row. */
export type TrlConversationalRow = z.infer<typeof TrlConversationalRow>;

/**
 * TRL's prompt-completion row: the loss is taken on the completion only. Both fields are text (standard) or both
 * are messages (conversational).
 */
export const TrlPromptCompletionRow = z
  .strictObject({
    prompt: TextOrMessages,
    completion: TextOrMessages,
    tools: z.array(ToolDefinition).optional(),
  })
  .refine((row) => sameKind([row.prompt, row.completion]), {
    message: "prompt and completion must both be text or both be messages",
    path: ["completion"],
  });
/** TRL's prompt-completion row. */
export type TrlPromptCompletionRow = z.infer<typeof TrlPromptCompletionRow>;

/** TRL's preference row (`DPOTrainer`, reward modelling): an explicit prompt, a chosen and a rejected answer. */
export const TrlPreferenceRow = z
  .strictObject({
    prompt: TextOrMessages,
    chosen: TextOrMessages,
    rejected: TextOrMessages,
    tools: z.array(ToolDefinition).optional(),
  })
  .refine((row) => sameKind([row.prompt, row.chosen, row.rejected]), {
    message: "prompt, chosen and rejected must all be text or all be messages",
    path: ["chosen"],
  });
/** TRL's preference row. */
export type TrlPreferenceRow = z.infer<typeof TrlPreferenceRow>;
