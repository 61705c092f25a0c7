import { z } from "zod";

/** A tool call made by an assistant turn, in the OpenAI chat format. */
export const ToolCall = z.strictObject({
  id: z.string(),
  type: z.literal("function"),
  function: z.strictObject({
    name: z.string().min(1),
    /** The arguments as the model wrote them: a JSON string. */
    arguments: z.string(),
  }),
});
/** A tool call made by an assistant turn, in the OpenAI chat format. */
export type ToolCall = z.infer<typeof ToolCall>;

/** One part of a multi-part message content. */
export const ContentPart = z.strictObject({ type: z.literal("text"), text: z.string() });
/** One part of a multi-part message content. */
export type ContentPart = z.infer<typeof ContentPart>;

/** Roles of the OpenAI chat format. */
export const ChatRole = {
  SYSTEM: "system",
  DEVELOPER: "developer",
  USER: "user",
  ASSISTANT: "assistant",
  TOOL: "tool",
} as const;
/** A role of the OpenAI chat format. */
export type ChatRole = (typeof ChatRole)[keyof typeof ChatRole];

/** One message of a conversation in the OpenAI chat format (tool calls included). */
export const ChatMessage = z.strictObject({
  role: z.enum(["system", "developer", "user", "assistant", "tool"]),
  content: z.union([z.string(), z.array(ContentPart), z.null()]).optional(),
  name: z.string().optional(),
  tool_calls: z.array(ToolCall).optional(),
  tool_call_id: z.string().optional(),
});
/** One message of a conversation in the OpenAI chat format (tool calls included). */
export type ChatMessage = z.infer<typeof ChatMessage>;
