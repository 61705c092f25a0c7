import type { ChatMessage, Sample, ToolDefinition } from "@orbiter/types";
import OpenAI from "openai";
import type { ChatCompletionMessageParam, ChatCompletionTool } from "openai/resources/chat/completions";
import type { AgentContext } from "../../agent/agent-rollout.js";
import { chatTokenizer } from "../../chat/chat-template.js";
import { TransformerPolicy } from "../../model/transformer-policy.js";
import { supervisedFineTuneEpisodes } from "../../sft/episode-fine-tune.js";

// Test fixture of agent mode: a tiny world (the sky over four cities), one tool to read it, an agent written
// with the official openai SDK, and a policy warm-started to call the tool.

/** The sky over each city. */
export const SKY: Readonly<Record<string, string>> = { Oslo: "rain", Rome: "sun", Lima: "fog", Nice: "wind" };

/** The one tool: `sky({ city })`. */
export const SKY_TOOLS: ToolDefinition[] = [
  {
    type: "function",
    function: { name: "sky", parameters: { type: "object", properties: { city: { type: "string" } } } },
  },
];

/** One task per city: the input `City?`, the id the city. */
export const SKY_TASKS: Sample[] = Object.keys(SKY).map((city) => ({
  id: city,
  input: `${city}?`,
  output: "",
  metadata: {},
}));

/** The tool's result for a call's JSON arguments. */
export function lookUpSky(argumentsJson: string): string {
  try {
    return SKY[(JSON.parse(argumentsJson) as { city?: string }).city ?? ""] ?? "unknown";
  } catch {
    return "bad arguments";
  }
}

/** A user's agent, written with the official openai SDK: call tools until the model answers in text. */
export async function skyAgent(task: Sample, context: AgentContext): Promise<string> {
  const client = new OpenAI({ baseURL: context.baseURL, apiKey: context.apiKey, maxRetries: 0 });
  const messages: ChatCompletionMessageParam[] = [{ role: "user", content: task.input }];
  for (let turn = 0; turn < 3; turn++) {
    const completion = await client.chat.completions.create(
      { model: context.model, messages, tools: SKY_TOOLS as ChatCompletionTool[] },
      { signal: context.signal },
    );
    const message = completion.choices[0]?.message;
    if (message === undefined) return "";
    messages.push(message); // as the SDK returned it (refusal: null and all)
    const calls = (message.tool_calls ?? []).filter((call) => call.type === "function");
    if (calls.length === 0) return message.content ?? "";
    for (const call of calls) {
      messages.push({ role: "tool", tool_call_id: call.id, content: lookUpSky(call.function.arguments) });
    }
  }
  return "";
}

/** The ideal episode of a city: call the tool, read the result, answer with it. */
export function skyConversation(city: string): ChatMessage[] {
  const sky = SKY[city] ?? "unknown";
  return [
    { role: "user", content: `${city}?` },
    {
      role: "assistant",
      content: null,
      tool_calls: [{ id: "c", type: "function", function: { name: "sky", arguments: `{"city":"${city}"}` } }],
    },
    { role: "tool", tool_call_id: "c", content: sky },
    { role: "assistant", content: sky },
  ];
}

/** A small chat policy (context 80, with a value head) fine-tuned on the ideal episodes of three cities. */
export async function warmSkyPolicy(seed: number): Promise<TransformerPolicy> {
  const policy = new TransformerPolicy({
    tokenizer: chatTokenizer(),
    config: { contextLength: 80, dModel: 32, nHeads: 2, nLayers: 1, dMlp: 64, valueHead: true },
    seed,
  });
  const conversations = ["Oslo", "Rome", "Lima"].map((city) => ({
    messages: skyConversation(city),
    tools: SKY_TOOLS,
  }));
  await supervisedFineTuneEpisodes(policy, conversations, {
    epochs: 40,
    batchSize: 3,
    learningRate: 1e-2,
    seed,
  });
  return policy;
}
