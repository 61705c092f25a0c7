import type { ChatCompletionRequest, ChatMessage } from "@orbiter/types";
import { chatTokenizer, encodeMessages } from "@orbiter/verl";
import { describe, expect, it } from "vitest";
import { MAX_TURN_TOKENS, scoreMessages } from "./evaluation.js";
import { CONTEXT_LENGTH } from "./policy-factory.js";
import { allProblems } from "./task.js";
import { TeacherModel } from "./teacher-model.js";
import {
  answerFor,
  callTool,
  referenceAnswer,
  referenceConversation,
  TRAVEL_TOOLS,
  worldSeed,
} from "./travel-world.js";

describe("the travel world", () => {
  it("answers tool calls from the world state of the request, and errors for bad calls", () => {
    const seed = worldSeed("weather in Oslo?");
    const oslo = JSON.parse(callTool("weather", '{"city":"Oslo"}', seed));
    expect(oslo).toEqual({ result: expect.stringMatching(/^[a-z]+$/) });
    expect(JSON.parse(callTool("weather", '{"city":"Oslo"}', seed))).toEqual(oslo);
    expect(answerFor({ tool: "weather", city: "Oslo" }, seed)).toBe(oslo.result);
    expect(referenceAnswer("weather in Oslo?")).toBe(oslo.result);
    expect(JSON.parse(callTool("taxi", '{"city":"Oslo"}', seed))).toHaveProperty("error");
    expect(JSON.parse(callTool("time", '{"city":"Olso"}', seed))).toEqual({ error: "unknown city" });
    expect(JSON.parse(callTool("time", '{"city": Oslo', seed))).toEqual({ error: "arguments are not JSON" });
    // The world changes between requests: the same call meets other facts, which cannot be learned by heart.
    const byCall = new Map<string, Set<string | undefined>>();
    for (const problem of allProblems()) {
      const key = `${problem.call.tool}/${problem.call.city}`;
      byCall.set(key, (byCall.get(key) ?? new Set()).add(referenceAnswer(problem.request)));
    }
    const varied = [...byCall.values()].filter((answers) => answers.size > 1).length;
    expect(varied).toBeGreaterThan(0.8 * byCall.size);
  });

  it("fits every reference episode in the policy's context, each assistant turn in the turn budget", () => {
    const tokenizer = chatTokenizer();
    for (const problem of allProblems()) {
      const messages = referenceConversation(problem.request) as ChatMessage[];
      expect(encodeMessages(tokenizer, messages, { tools: TRAVEL_TOOLS }).length).toBeLessThanOrEqual(
        CONTEXT_LENGTH,
      );
      for (const message of messages.filter((m) => m.role === "assistant")) {
        expect(encodeMessages(tokenizer, [message]).length - 2).toBeLessThanOrEqual(MAX_TURN_TOKENS);
      }
      expect(encodeMessages(tokenizer, messages)).not.toContain(tokenizer.unkId);
    }
  });

  it("scores the exact answer 1, a right call with a wrong answer 0.5, partly right calls less", () => {
    const request = "is it raining in Oslo?";
    const messages = referenceConversation(request) as ChatMessage[];
    expect(scoreMessages(request, referenceAnswer(request) as string, messages)).toBe(1);
    expect(scoreMessages(request, "no idea", messages)).toBe(0.5);
    const wrongTool = structuredClone(messages);
    wrongTool[1]!.tool_calls![0]!.function.name = "time";
    expect(scoreMessages(request, "no idea", wrongTool)).toBeCloseTo(0.1, 10);
    expect(scoreMessages(request, "no idea", [])).toBe(0);
    expect(scoreMessages("what is this?", "x", messages)).toBe(0);
  });
});

describe("TeacherModel", () => {
  async function episode(teacher: TeacherModel, request: string): Promise<ChatMessage[]> {
    const messages: ChatMessage[] = [{ role: "user", content: request }];
    for (let turn = 0; turn < 3; turn++) {
      const result = await teacher.complete({ model: "teacher", messages } as ChatCompletionRequest);
      const message = result.choices[0]!.message;
      messages.push(message);
      if (!message.tool_calls) return messages;
      for (const call of message.tool_calls) {
        messages.push({
          role: "tool",
          tool_call_id: call.id,
          content: callTool(call.function.name, call.function.arguments, worldSeed(request)),
        });
      }
    }
    return messages;
  }

  it("does the task right at about its skill rate, its mistakes never verify, and it repeats for a seed", async () => {
    const problems = allProblems().slice(0, 200);
    const run = async () => {
      const teacher = new TeacherModel({ seed: 5, skill: 0.8 });
      const transcripts: ChatMessage[][] = [];
      for (const problem of problems) transcripts.push(await episode(teacher, problem.request));
      return { teacher, transcripts };
    };
    const { teacher, transcripts } = await run();
    const right = transcripts.filter((messages, i) => {
      const answer = String(messages.at(-1)?.content ?? "");
      return scoreMessages(problems[i]!.request, answer, messages) === 1;
    }).length;
    const mistakes = Object.values(teacher.mistakes).reduce((a, b) => a + b, 0);
    expect(right).toBeGreaterThan(0.5 * problems.length);
    expect(right).toBeLessThan(problems.length);
    expect(problems.length - right).toBeLessThanOrEqual(mistakes);
    expect(Object.values(teacher.mistakes).every((count) => count > 0)).toBe(true);
    expect((await run()).transcripts).toEqual(transcripts);
  });
});
