import type { ChatMessage, TrajectoryItem } from "@orbiter/types";
import { describe, expect, it } from "vitest";
import { TrajectoryDataset } from "../dataset/trajectory-dataset.js";
import { DefaultStrategy } from "../strategy/default-strategy.js";
import { captureMessages, renderConversation, renderTurn } from "./capture-messages.js";

const conversation: ChatMessage[] = [
  { role: "system", content: "You are a calculator." },
  { role: "user", content: "What is 2+2?", name: "ada" },
  {
    role: "assistant",
    content: null,
    tool_calls: [{ id: "c1", type: "function", function: { name: "calc", arguments: '{"x":"2+2"}' } }],
  },
  { role: "tool", tool_call_id: "c1", content: "4" },
  {
    role: "assistant",
    content: [
      { type: "text", text: "The answer " },
      { type: "text", text: "is 4." },
    ],
    tool_calls: [{ id: "c2", type: "function", function: { name: "log", arguments: "{}" } }],
  },
  { role: "user", content: "Thanks" },
];

describe("captureMessages", () => {
  it("uses the conversation before the last assistant turn as state and that turn as action", () => {
    const item = captureMessages(conversation, {
      reward: 1,
      taskId: "math",
      agentId: "calc-bot",
      episodeId: "e",
      step: 3,
      status: "success",
      metadata: { model: "tiny" },
      id: "m1",
      timestamp: 10,
    });
    expect(item.state).toBe(
      [
        "system: You are a calculator.",
        "user (ada): What is 2+2?",
        'assistant: calc({"x":"2+2"})',
        "tool [c1]: 4",
      ].join("\n"),
    );
    expect(item.action).toBe("The answer is 4.\nlog({})");
    expect(item).toMatchObject({
      id: "m1",
      timestamp: 10,
      reward: 1,
      taskId: "math",
      agentId: "calc-bot",
      episodeId: "e",
      step: 3,
      status: "success",
      metadata: { model: "tiny" },
    });
    expect(item.messages).toEqual(conversation);
  });

  it("renders turns and conversations", () => {
    expect(renderTurn({ role: "assistant", content: "hi" })).toBe("hi");
    expect(renderTurn({ role: "assistant" })).toBe("");
    expect(renderConversation([])).toBe("");
  });

  it("rejects a list without assistant turn, a malformed message, or bad options", () => {
    expect(() => captureMessages([{ role: "user", content: "hi" }], { reward: 1 })).toThrow(
      expect.objectContaining({ field: "messages" }),
    );
    expect(() =>
      captureMessages([{ role: "robot", content: "x" } as unknown as ChatMessage], { reward: 1 }),
    ).toThrow(expect.objectContaining({ field: "messages[0].role" }));
    expect(() => captureMessages("hi" as never, { reward: 1 })).toThrow(
      expect.objectContaining({ field: "messages" }),
    );
    expect(() => captureMessages(conversation, { reward: Number.NaN })).toThrow(
      expect.objectContaining({ field: "options.reward" }),
    );
    expect(() => captureMessages(conversation, { reward: 1, colour: "red" } as never)).toThrow(
      expect.objectContaining({ field: "options.colour" }),
    );
  });

  it("is also a dataset method that goes through the strategy", () => {
    class OnlySuccess extends DefaultStrategy {
      override shouldCapture(item: TrajectoryItem): boolean {
        return item.status === "success";
      }
    }
    const dataset = new TrajectoryDataset({ strategy: new OnlySuccess() });
    expect(dataset.captureMessages(conversation, { reward: 1, status: "failure" })).toBeUndefined();
    const item = dataset.captureMessages(conversation, { reward: 0.5, status: "success" });
    expect(item?.action).toBe("The answer is 4.\nlog({})");
    expect(dataset.length).toBe(1);
  });
});
