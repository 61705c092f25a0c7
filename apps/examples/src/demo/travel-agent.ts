import type { Sample } from "@orbiter/types";
import OpenAI from "openai";
import type { ChatCompletionMessageParam, ChatCompletionTool } from "openai/resources/chat/completions";
import { callTool, TRAVEL_TOOLS, worldSeed } from "./travel-world.js";

/** Most model calls of one episode: a tool call and the answer fit, with room for one retry. */
export const AGENT_MAX_CALLS = 3;

/** Where the agent sends its calls (the gateway's rollout URL) and with what. */
export interface TravelAgentContext {
  baseURL: string;
  apiKey: string;
  model: string;
  signal?: AbortSignal;
}

/**
 * The demo's travel assistant, written against the official `openai` SDK as any agent would be: it sends the
 * user's request with the four tools, runs every tool call the model makes against the world and sends the
 * results back (the world as it is for this request), until the model answers in text (or it has made {@link AGENT_MAX_CALLS} calls). It returns that
 * answer. The same code runs against the scripted teacher (capture) and the policy being trained (RL): only
 * `baseURL` differs.
 */
export async function travelAgent(task: Pick<Sample, "input">, context: TravelAgentContext): Promise<string> {
  const client = new OpenAI({ baseURL: context.baseURL, apiKey: context.apiKey, maxRetries: 0 });
  const world = worldSeed(task.input);
  const messages: ChatCompletionMessageParam[] = [{ role: "user", content: task.input }];
  for (let call = 0; call < AGENT_MAX_CALLS; call++) {
    const completion = await client.chat.completions.create(
      { model: context.model, messages, tools: TRAVEL_TOOLS as ChatCompletionTool[] },
      context.signal ? { signal: context.signal } : {},
    );
    const message = completion.choices[0]?.message;
    if (message === undefined) return "";
    const toolCalls = (message.tool_calls ?? []).filter((toolCall) => toolCall.type === "function");
    messages.push({
      role: "assistant",
      content: message.content,
      ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
    });
    if (toolCalls.length === 0) return message.content ?? "";
    for (const toolCall of toolCalls) {
      messages.push({
        role: "tool",
        tool_call_id: toolCall.id,
        content: callTool(toolCall.function.name, toolCall.function.arguments, world),
      });
    }
  }
  return "";
}
