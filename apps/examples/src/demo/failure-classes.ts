import type { ChatMessage } from "@orbiter/types";
import { solveRequest } from "./task.js";
import { isReferenceAnswer } from "./travel-world.js";

/**
 * What an episode of the travel agent came to, one class each, checked in this order: the exact answer
 * (`success`); the right first call but a wrong answer (`misread`: the tool's result was not copied right);
 * a first call with the right tool and another city (`wrongCity`); any other first call (`wrongTool`); no
 * tool call, or one whose arguments are not a JSON object with a city (`noCall`).
 */
export const FAILURE_CLASSES = ["success", "misread", "wrongCity", "wrongTool", "noCall"] as const;

/** One class of {@link FAILURE_CLASSES}. */
export type FailureClass = (typeof FAILURE_CLASSES)[number];

/** Episodes per class. */
export type FailureCounts = Record<FailureClass, number>;

/** Column titles of the classes, as the summary and the report print them. */
export const FAILURE_CLASS_TITLES: Record<FailureClass, string> = {
  success: "success",
  misread: "right call, answer misread",
  wrongCity: "wrong city",
  wrongTool: "wrong tool",
  noCall: "no call / malformed",
};

/** The first tool call of a conversation as `{ tool, city }`, or undefined when there is none or it is malformed. */
export function firstToolCall(
  messages: ReadonlyArray<ChatMessage>,
): { tool: string; city: string } | undefined {
  for (const message of messages) {
    const call = message.tool_calls?.[0];
    if (call === undefined) continue;
    try {
      const city = (JSON.parse(call.function.arguments) as { city?: unknown } | null)?.city;
      return typeof city === "string" ? { tool: call.function.name, city } : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * The class of one episode: `request` is the user's request, `answer` the agent's final answer and `messages`
 * the whole conversation. A request the task cannot solve counts as `noCall`.
 *
 * @example
 * ```ts
 * classifyEpisode("a room in Doha", "Nord", messages); // "success" when the hotel tool returned "Nord" for Doha
 * ```
 */
export function classifyEpisode(
  request: string,
  answer: string,
  messages: ReadonlyArray<ChatMessage>,
): FailureClass {
  const expected = solveRequest(request);
  if (expected === undefined) return "noCall";
  if (isReferenceAnswer(request, answer)) return "success";
  const call = firstToolCall(messages);
  if (call === undefined) return "noCall";
  if (call.tool === expected.tool && call.city === expected.city) return "misread";
  if (call.tool === expected.tool) return "wrongCity";
  return "wrongTool";
}

/** Counts the classes of a set of episodes. */
export function countFailureClasses(
  episodes: ReadonlyArray<{ request: string; answer: string; messages: ReadonlyArray<ChatMessage> }>,
): FailureCounts {
  const counts: FailureCounts = { success: 0, misread: 0, wrongCity: 0, wrongTool: 0, noCall: 0 };
  for (const episode of episodes) {
    counts[classifyEpisode(episode.request, episode.answer, episode.messages)]++;
  }
  return counts;
}
