import type { ChatMessage } from "@orbiter/types";
import { describe, expect, it } from "vitest";
import { classifyEpisode, countFailureClasses } from "./failure-classes.js";
import { callTool, referenceAnswer, referenceConversation, worldSeed } from "./travel-world.js";

const REQUEST = "a room in Doha";

/** The conversation of `REQUEST` with the first call made as given (its result taken from the world). */
function withCall(tool: string, argumentsJson: string): ChatMessage[] {
  return [
    { role: "user", content: REQUEST },
    {
      role: "assistant",
      content: null,
      tool_calls: [{ id: "call_0", type: "function", function: { name: tool, arguments: argumentsJson } }],
    },
    { role: "tool", tool_call_id: "call_0", content: callTool(tool, argumentsJson, worldSeed(REQUEST)) },
  ];
}

describe("failure classes of the travel agent's episodes", () => {
  const right = referenceAnswer(REQUEST) as string;

  it("puts each way an episode can end in its class", () => {
    const done = referenceConversation(REQUEST) as ChatMessage[];
    expect(classifyEpisode(REQUEST, right, done)).toBe("success");
    expect(classifyEpisode(REQUEST, ` ${right}\n`, done)).toBe("success");
    expect(classifyEpisode(REQUEST, `${right}x`, done)).toBe("misread");
    expect(classifyEpisode(REQUEST, "", withCall("hotel", '{"city":"Oslo"}'))).toBe("wrongCity");
    expect(classifyEpisode(REQUEST, "", withCall("flight", '{"city":"Doha"}'))).toBe("wrongTool");
    expect(classifyEpisode(REQUEST, "", withCall("flight", '{"city":"Oslo"}'))).toBe("wrongTool");
    expect(classifyEpisode(REQUEST, "", withCall("hotel", '{"city": Doha'))).toBe("noCall");
    expect(classifyEpisode(REQUEST, "", withCall("hotel", "null"))).toBe("noCall");
    expect(classifyEpisode(REQUEST, "Plaza", [{ role: "user", content: REQUEST }])).toBe("noCall");
    // A request the task cannot solve has no right call.
    expect(classifyEpisode("hello", "", [])).toBe("noCall");
  });

  it("counts every episode once", () => {
    const done = referenceConversation(REQUEST) as ChatMessage[];
    const counts = countFailureClasses([
      { request: REQUEST, answer: right, messages: done },
      { request: REQUEST, answer: right, messages: done },
      { request: REQUEST, answer: "?", messages: done },
      { request: REQUEST, answer: "", messages: withCall("hotel", '{"city":"Lima"}') },
      { request: REQUEST, answer: "", messages: [] },
    ]);
    expect(counts).toEqual({ success: 2, misread: 1, wrongCity: 1, wrongTool: 0, noCall: 1 });
  });
});
