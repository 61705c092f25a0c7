import { InvalidArgumentError, type SeededRandom } from "@orbiter/types";
import { formatCall, type Problem, type ToolName } from "./task.js";

/** Options of {@link ScriptedAgent}. */
export interface ScriptedAgentOptions {
  /** Probability of answering a request exactly right. @default 0.6 */
  skill?: number;
  /** Probability of giving no answer at all (a time-out; the capture strategy drops those). @default 0.05 */
  timeoutRate?: number;
}

/** Tools an imperfect agent mixes up. */
const CONFUSED_WITH: Record<ToolName, ToolName> = {
  weather: "time",
  time: "weather",
  flight: "hotel",
  hotel: "flight",
};

/** The kinds of mistake the scripted agent makes. */
export type AgentMistake = "wrong-tool" | "misspelled-city" | "malformed" | "timeout";

/** One answer of the scripted agent. */
export interface AgentAnswer {
  /** The call it made (empty on a time-out). */
  action: string;
  /** The mistake it made, if any. */
  mistake: AgentMistake | undefined;
}

/**
 * A stand-in for a real agent being observed in production: it answers most requests right and makes the
 * mistakes real agents make (the wrong one of two similar tools, a misspelled argument, a malformed call, no
 * answer). Deterministic for a given random generator.
 */
export class ScriptedAgent {
  /** Probability of a right answer. */
  readonly skill: number;
  /** Probability of no answer. */
  readonly timeoutRate: number;

  constructor(options: ScriptedAgentOptions = {}) {
    this.skill = checkProbability(options.skill ?? 0.6, "skill");
    this.timeoutRate = checkProbability(options.timeoutRate ?? 0.05, "timeoutRate");
    if (this.skill + this.timeoutRate > 1) {
      throw new InvalidArgumentError("skill + timeoutRate must not exceed 1", { field: "timeoutRate" });
    }
  }

  /** Answers one request. */
  act(problem: Problem, rng: SeededRandom): AgentAnswer {
    const draw = rng.next();
    if (draw < this.timeoutRate) return { action: "", mistake: "timeout" };
    if (draw < this.timeoutRate + this.skill) return { action: formatCall(problem.call), mistake: undefined };
    const mistake = rng.choice(["wrong-tool", "misspelled-city", "malformed"] as const);
    const { tool, city } = problem.call;
    if (mistake === "wrong-tool") return { action: formatCall({ tool: CONFUSED_WITH[tool], city }), mistake };
    if (mistake === "misspelled-city") {
      const cut = rng.integer(1, city.length - 1);
      return { action: formatCall({ tool, city: city.slice(0, cut) + city.slice(cut + 1) }), mistake };
    }
    return { action: `${tool} ${city}`, mistake };
  }
}

function checkProbability(value: number, field: string): number {
  if (typeof value !== "number" || !(value >= 0 && value <= 1)) {
    throw new InvalidArgumentError(`${field} must be a probability in [0, 1], got ${String(value)}`, {
      field,
      value,
    });
  }
  return value;
}
