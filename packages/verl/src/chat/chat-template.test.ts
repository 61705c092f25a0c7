import { type ChatMessage, InvalidArgumentError } from "@orbiter/types";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CHAT_MARKERS,
  chatTokenizer,
  contentText,
  encodeChat,
  encodeMessages,
  renderChat,
} from "./chat-template.js";
import { parseAssistantOutput, parseChat } from "./parse-assistant-output.js";

const M = CHAT_MARKERS;

/** Hostile text: any Unicode (markers, quotes, backslashes, newlines, astral characters and lone surrogates). */
const hostile = fc.oneof(
  fc.string({ unit: "binary" }),
  fc.string({ unit: fc.constantFrom(...Object.values(M), '"', "\\", "\n", "{", "}", "é", "🙂", "a") }),
);
const toolName = hostile.filter((name) => name.length > 0 && name.trim() === name);
const argumentsJson = fc.dictionary(hostile, fc.jsonValue()).map((value) => JSON.stringify(value));

const message: fc.Arbitrary<ChatMessage> = fc.oneof(
  fc.record({ role: fc.constantFrom("system", "developer", "user"), content: hostile }),
  fc.record({ role: fc.constant("tool"), content: hostile }),
  fc.record({
    role: fc.constant("assistant"),
    content: hostile,
    tool_calls: fc.array(
      fc.record({
        id: fc.string(),
        type: fc.constant("function"),
        function: fc.record({ name: toolName, arguments: argumentsJson }),
      }),
      { maxLength: 3 },
    ),
  }),
) as fc.Arbitrary<ChatMessage>;

/** What a message is once it has been through the format: ids renumbered, names dropped, content a string. */
function normalise(messages: ReadonlyArray<ChatMessage>): ChatMessage[] {
  let callCount = 0;
  const pending: string[] = [];
  return messages.map((original) => {
    if (original.role === "assistant") {
      const calls = original.tool_calls ?? [];
      if (calls.length === 0) return { role: "assistant", content: contentText(original.content) };
      const text = contentText(original.content);
      const toolCalls = calls.map((call) => {
        const id = `call_${callCount++}`;
        pending.push(id);
        return { id, type: "function" as const, function: { ...call.function } };
      });
      return { role: "assistant", content: text === "" ? null : text, tool_calls: toolCalls };
    }
    const out: ChatMessage = { role: original.role, content: contentText(original.content) };
    if (original.role === "tool") {
      const id = pending.shift();
      if (id !== undefined) out.tool_call_id = id;
    }
    return out;
  });
}

describe("chat template", () => {
  it("renders each role with its marker, tool calls after the text, and END after each message", () => {
    const text = renderChat(
      [
        { role: "system", content: "Be brief." },
        { role: "user", content: "weather in Oslo?" },
        {
          role: "assistant",
          content: null,
          tool_calls: [
            { id: "x", type: "function", function: { name: "weather", arguments: '{"city":"Oslo"}' } },
          ],
        },
        { role: "tool", tool_call_id: "x", content: '{"sky":"rain"}' },
        { role: "assistant", content: "Rain in Oslo." },
      ],
      {
        tools: [
          { type: "function", function: { name: "weather" } },
          { type: "function", function: { name: "time" } },
        ],
        addGenerationPrompt: true,
      },
    );
    expect(text).toBe(
      `${M.tools}weather,time${M.end}${M.system}Be brief.${M.end}${M.user}weather in Oslo?${M.end}` +
        `${M.assistant}${M.call}weather${M.args}{"city":"Oslo"}${M.end}${M.tool}{"sky":"rain"}${M.end}` +
        `${M.assistant}Rain in Oslo.${M.end}${M.assistant}`,
    );
  });

  it("round-trips any conversation through render and parse (property)", () => {
    fc.assert(
      fc.property(fc.array(message, { maxLength: 6 }), (messages) => {
        expect(parseChat(renderChat(messages))).toEqual(normalise(messages));
      }),
      { numRuns: 300, seed: 11 },
    );
  });

  it("round-trips an assistant answer through token ids, END as the end-of-sequence token", () => {
    const tokenizer = chatTokenizer(["é🙂"]);
    // Every character here is in the tokenizer's alphabet (others would come back as the unknown character).
    const covered = fc.string({
      unit: fc.constantFrom(...Object.values(M), '"', "\\", "\n", "{", "é", "🙂", "x", " "),
    });
    const coveredJson = fc.dictionary(covered, fc.jsonValue()).map((value) => JSON.stringify(value));
    fc.assert(
      fc.property(
        covered,
        fc.array(fc.record({ name: fc.constantFrom("weather", "get_time"), arguments: coveredJson }), {
          maxLength: 2,
        }),
        (content, calls) => {
          const answer: ChatMessage = {
            role: "assistant",
            content,
            tool_calls: calls.map((call, k) => ({ id: `call_${k}`, type: "function", function: call })),
          };
          const ids = encodeMessages(tokenizer, [answer]);
          expect(ids[0]).toBe(tokenizer.bosId);
          expect(ids.at(-1)).toBe(tokenizer.eosId);
          expect(ids.filter((id) => id === tokenizer.eosId)).toHaveLength(1);
          // What the policy samples after the assistant marker, decoded and parsed, is the message again.
          const body = tokenizer.decode(ids.slice(2));
          const parsed = parseAssistantOutput(body);
          expect(parsed.malformedToolCalls).toBe(0);
          expect(parsed.message).toEqual(normalise([answer])[0]);
        },
      ),
      { numRuns: 200, seed: 3 },
    );
  });

  it("encodes an escaped END as characters, and characters outside the alphabet as unknown", () => {
    const tokenizer = chatTokenizer();
    const ids = encodeChat(tokenizer, `a${M.escape}${M.end}b${M.end}`, { addBos: false });
    expect(ids).toEqual([...tokenizer.encode(`a${M.escape}${M.end}b`), tokenizer.eosId]);
    expect(tokenizer.encode("ж")).toEqual([tokenizer.unkId]);
    expect(tokenizer.encode('{"a": [1, "b\\n"]}')).not.toContain(tokenizer.unkId);
  });

  it("returns malformed tool calls as text and counts them, never throwing", () => {
    const cases = [
      `${M.call}weather{"city":"Oslo"}`, // no ARGS marker
      `${M.call}${M.args}{"city":"Oslo"}`, // no name
      `${M.call}weather${M.args}{"city":"Os`, // cut JSON
      `${M.call}weather${M.args}[1,2]`, // not an object
      `ok${M.call}weather${M.args}{}${M.args}{}`, // a second ARGS
      `${M.call}weather${M.args}{}${M.user}`, // a role marker inside a call
    ];
    for (const text of cases) {
      const parsed = parseAssistantOutput(text);
      expect(parsed.malformedToolCalls, text).toBeGreaterThan(0);
      expect(parsed.message.tool_calls).toBeUndefined();
      expect(typeof parsed.message.content).toBe("string");
    }
    expect(parseAssistantOutput(`${M.call}weather${M.args}{"city":"Oslo"}`).message).toEqual({
      role: "assistant",
      content: null,
      tool_calls: [
        { id: "call_0", type: "function", function: { name: "weather", arguments: '{"city":"Oslo"}' } },
      ],
    });
    expect(parseAssistantOutput("plain answer", { firstCallIndex: 4 }).message).toEqual({
      role: "assistant",
      content: "plain answer",
    });
  });

  it("parseChat names the message that is not in the format", () => {
    expect(() => parseChat(`${M.user}hi${M.end}no marker${M.end}`)).toThrow(InvalidArgumentError);
    expect(() => parseChat(`${M.user}hi${M.end}no marker${M.end}`)).toThrow(
      expect.objectContaining({ field: "messages[1]" }),
    );
    expect(() => parseChat(`${M.user}unterminated`)).toThrow(
      expect.objectContaining({ field: "messages[0]" }),
    );
  });
});
