import { ToolDefinition } from "@orbiter/types";
import { z } from "zod";
import { DatasetMessage } from "./dataset-message.js";

/** A message of an OpenAI chat fine-tuning row: assistant turns may carry `weight` 0 (not trained on) or 1. */
export const OpenAiChatMessage = DatasetMessage.extend({
  weight: z.union([z.literal(0), z.literal(1)]).optional(),
}).refine((message) => message.weight === undefined || message.role === "assistant", {
  message: "Only assistant messages carry a weight",
  path: ["weight"],
});
/** A message of an OpenAI chat fine-tuning row. */
export type OpenAiChatMessage = z.infer<typeof OpenAiChatMessage>;

/**
 * One line of an OpenAI-format supervised (chat) fine-tuning file: the conversation, the tools it may call, and
 * per-assistant-turn weights.
 */
export const OpenAiChatRow = z.strictObject({
  messages: z.array(OpenAiChatMessage).min(1, { message: "Expected at least one message" }),
  tools: z.array(ToolDefinition).optional(),
  parallel_tool_calls: z.boolean().optional(),
});
/** One line of an OpenAI-format chat fine-tuning file. */
export type OpenAiChatRow = z.infer<typeof OpenAiChatRow>;

const AssistantOutput = z
  .array(
    DatasetMessage.refine((message) => message.role === "assistant", {
      message: "Expected an assistant message",
      path: ["role"],
    }),
  )
  .length(1, { message: "Expected exactly one assistant message" });

/** One line of an OpenAI-format preference (DPO) fine-tuning file. */
export const OpenAiPreferenceRow = z.strictObject({
  input: z.strictObject({
    messages: z.array(DatasetMessage).min(1, { message: "Expected at least one message" }),
    tools: z.array(ToolDefinition).optional(),
    parallel_tool_calls: z.boolean().optional(),
  }),
  preferred_output: AssistantOutput,
  non_preferred_output: AssistantOutput,
});
/** One line of an OpenAI-format preference fine-tuning file. */
export type OpenAiPreferenceRow = z.infer<typeof OpenAiPreferenceRow>;
