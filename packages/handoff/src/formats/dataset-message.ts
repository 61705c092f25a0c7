import { ChatMessage, ToolCall } from "@orbiter/types";
import { z } from "zod";

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** A tool call as fine-tuning files carry it: OpenAI's shape, with `arguments` a string that parses as JSON. */
export const DatasetToolCall = ToolCall.extend({
  function: z.strictObject({
    name: z.string().min(1),
    /** The arguments object, as a JSON string. */
    arguments: z.string().refine(isJson, { message: "Expected a JSON string" }),
  }),
});
/** A tool call of a dataset message. */
export type DatasetToolCall = z.infer<typeof DatasetToolCall>;

/**
 * One chat message of a dataset row (TRL conversational and OpenAI formats): the OpenAI chat message, tool
 * calls included, whose tool-call arguments are JSON strings.
 */
export const DatasetMessage = ChatMessage.extend({ tool_calls: z.array(DatasetToolCall).optional() });
/** One chat message of a dataset row. */
export type DatasetMessage = z.infer<typeof DatasetMessage>;
