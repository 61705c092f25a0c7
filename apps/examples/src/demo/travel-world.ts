import { type ChatMessage, deriveSeed, type ToolDefinition } from "@orbiter/types";
import { CITIES, solveRequest, TOOL_NAMES, type ToolCall, type ToolName } from "./task.js";

/**
 * The small in-process world the travel agent's tools read: weather, local time, flights and hotels of every
 * city. The world changes from one request to the next (another day, another hour): its state is fixed by a
 * seed derived from the request ({@link worldSeed}), so an episode can be replayed, but facts cannot be learned by
 * heart — the agent has to call the tool and read its result. Each tool takes one argument, `{"city": "<name>"}`,
 * and returns `{"result": "<what it found>"}`; an unknown tool or city, or arguments that are not that JSON,
 * return `{"error": ...}`.
 */

/** The tools as the agent offers them to the model (OpenAI format). */
export const TRAVEL_TOOLS: ToolDefinition[] = TOOL_NAMES.map((name) => ({
  type: "function",
  function: {
    name,
    description: `The ${name} of a city`,
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  },
}));

const SKIES = ["sunny", "rain", "snow", "fog", "windy", "cloudy"] as const;
const HOTELS = ["Nord", "Plaza", "Lotus", "Mira", "Oak", "Ritz", "Bristol"] as const;

/** The state of the world when `request` is asked (the same request always meets the same world). */
export function worldSeed(request: string): number {
  return deriveSeed("travel-world", request);
}

/** A number in [0, n) fixed by the world state, the city and a topic. */
function pick(seed: number, city: string, topic: string, n: number): number {
  return (deriveSeed(seed, city, topic) >>> 0) % n;
}

const two = (value: number): string => String(value).padStart(2, "0");

/** What the world says about a city for one tool: the sky (`rain`), the local time (`14:05`), the next flight
 * (`OB41`) or a hotel with a free room (`Plaza`). */
export function toolReport(tool: ToolName, city: string, seed: number): string {
  switch (tool) {
    case "weather":
      return SKIES[pick(seed, city, "sky", SKIES.length)] as string;
    case "time":
      return `${two(pick(seed, city, "hour", 24))}:${two(pick(seed, city, "minute", 12) * 5)}`;
    case "flight":
      return `OB${two(pick(seed, city, "flight", 90) + 10)}`;
    case "hotel":
      return HOTELS[pick(seed, city, "hotel", HOTELS.length)] as string;
  }
}

/** Runs a tool call as the agent makes it, in the world state `seed`: the JSON text of the result, or of an error. */
export function callTool(name: string, argumentsJson: string, seed: number): string {
  if (!(TOOL_NAMES as ReadonlyArray<string>).includes(name)) {
    return JSON.stringify({ error: `unknown tool ${name}` });
  }
  let city: unknown;
  try {
    city = (JSON.parse(argumentsJson) as { city?: unknown }).city;
  } catch {
    return JSON.stringify({ error: "arguments are not JSON" });
  }
  if (typeof city !== "string" || !(CITIES as ReadonlyArray<string>).includes(city)) {
    return JSON.stringify({ error: "unknown city" });
  }
  return JSON.stringify({ result: toolReport(name as ToolName, city, seed) });
}

/** The final answer the user wants for a call in the world state `seed`: what the tool found, e.g. `rain`. */
export function answerFor(call: ToolCall, seed: number): string {
  return toolReport(call.tool, call.city, seed);
}

/** The reference answer of a request, or `undefined` when the request does not determine a call. */
export function referenceAnswer(request: string): string | undefined {
  const call = solveRequest(request);
  return call === undefined ? undefined : answerFor(call, worldSeed(request));
}

/** Whether `answer` (trimmed) is exactly the reference answer of `request`; never for a request without one. */
export function isReferenceAnswer(request: string, answer: string): boolean {
  return answer.trim() === referenceAnswer(request);
}

/**
 * The conversation of a request done right: the user's request, the right tool call, the world's result and the
 * answer written from it (what the teacher records when it makes no mistake). `undefined` when the request does
 * not determine a call.
 */
export function referenceConversation(request: string): ChatMessage[] | undefined {
  const call = solveRequest(request);
  if (call === undefined) return undefined;
  const args = JSON.stringify({ city: call.city });
  return [
    { role: "user", content: request },
    {
      role: "assistant",
      content: null,
      tool_calls: [{ id: "call_0", type: "function", function: { name: call.tool, arguments: args } }],
    },
    { role: "tool", tool_call_id: "call_0", content: callTool(call.tool, args, worldSeed(request)) },
    { role: "assistant", content: answerFor(call, worldSeed(request)) },
  ];
}
