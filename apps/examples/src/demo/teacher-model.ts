import type { ChatCompletionRequest, ChatCompletionResult, ChatMessage, ChatModel } from "@orbiter/types";
import { SeededRandom } from "@orbiter/types";
import { solveRequest, type ToolName } from "./task.js";
import { answerFor, worldSeed } from "./travel-world.js";

/** The kinds of mistake the teacher makes. */
export type TeacherMistake = "wrong-tool" | "misspelled-city" | "malformed-call" | "vague-answer";

/** Tools the teacher mixes up. */
const CONFUSED_WITH: Record<ToolName, ToolName> = {
  weather: "time",
  time: "weather",
  flight: "hotel",
  hotel: "flight",
};

/** Options of {@link TeacherModel}. */
export interface TeacherModelOptions {
  /** Seed of its mistakes. */
  seed: number;
  /** Probability of each call being right. @default 0.7 */
  skill?: number;
}

const text = (message: ChatMessage | undefined): string =>
  typeof message?.content === "string" ? message.content : "";

/**
 * The scripted upstream "teacher" the travel agent is recorded against: a `ChatModel` that reads the request,
 * calls the right tool for the city, then answers from the tool's result — and, like real models, sometimes
 * calls the wrong tool, misspells the city, writes arguments that are not JSON, or gives a vague answer. Its
 * mistakes are seeded; calls must come one at a time for a run to repeat exactly.
 */
export class TeacherModel implements ChatModel {
  /** Mistakes made so far, by kind. */
  readonly mistakes: Record<TeacherMistake, number> = {
    "wrong-tool": 0,
    "misspelled-city": 0,
    "malformed-call": 0,
    "vague-answer": 0,
  };
  private readonly rng: SeededRandom;
  private readonly skill: number;
  private calls = 0;

  constructor(options: TeacherModelOptions) {
    this.rng = new SeededRandom(options.seed);
    this.skill = options.skill ?? 0.7;
  }

  async listModels(): Promise<string[]> {
    return ["teacher"];
  }

  async complete(request: ChatCompletionRequest): Promise<ChatCompletionResult> {
    const messages = request.messages;
    const user = text(messages.find((message) => message.role === "user"));
    const toolResult = [...messages].reverse().find((message) => message.role === "tool");
    const right = this.rng.next() < this.skill;
    const solved = solveRequest(user);
    let message: ChatMessage & { role: "assistant" };
    if (toolResult === undefined && solved !== undefined) {
      let { tool, city } = solved;
      let args = JSON.stringify({ city });
      if (!right) {
        const kind = this.rng.choice(["wrong-tool", "misspelled-city", "malformed-call"] as const);
        this.mistakes[kind]++;
        if (kind === "wrong-tool") tool = CONFUSED_WITH[tool];
        if (kind === "misspelled-city") city = `${city.slice(0, -2)}${city.at(-1)}${city.at(-2)}`;
        args = kind === "malformed-call" ? `{"city": ${city}` : JSON.stringify({ city });
      }
      message = {
        role: "assistant",
        content: null,
        tool_calls: [
          { id: `call_${this.calls}`, type: "function", function: { name: tool, arguments: args } },
        ],
      };
    } else {
      const result = text(toolResult);
      const call =
        solved === undefined
          ? undefined
          : { tool: this.calledTool(messages) ?? solved.tool, city: solved.city };
      let answer = "Sorry, I could not find that.";
      if (call !== undefined && !result.includes("error")) answer = answerFor(call, worldSeed(user));
      if (!right && answer !== "Sorry, I could not find that.") {
        this.mistakes["vague-answer"]++;
        answer = "Here is what I found.";
      }
      message = { role: "assistant", content: answer };
    }
    this.calls++;
    return {
      model: "teacher",
      choices: [{ index: 0, message, finishReason: message.tool_calls ? "tool_calls" : "stop" }],
    };
  }

  /** The tool the conversation's assistant called (the answer reports what that tool returned). */
  private calledTool(messages: ReadonlyArray<ChatMessage>): ToolName | undefined {
    const name = messages.flatMap((message) => message.tool_calls ?? []).at(-1)?.function.name;
    return name === undefined ? undefined : (name as ToolName);
  }
}
