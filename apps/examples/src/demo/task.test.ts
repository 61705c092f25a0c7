import { InvalidArgumentError, SeededRandom } from "@orbiter/types";
import { describe, expect, it } from "vitest";
import {
  allProblems,
  CITIES,
  formatCall,
  PARTIAL_CREDIT,
  parseCall,
  sampleProblems,
  scoreCall,
  solveRequest,
  TASK_ALPHABET,
  TOOL_NAMES,
  verifyExample,
} from "./task.js";

describe("the tool-call task", () => {
  const problems = allProblems();

  it("has one distinct request per tool, phrasing and city, each solved by the reference solver", () => {
    expect(problems).toHaveLength(TOOL_NAMES.length * 4 * CITIES.length);
    expect(new Set(problems.map((problem) => problem.request)).size).toBe(problems.length);
    for (const problem of problems)
      expect(solveRequest(problem.request), problem.request).toEqual(problem.call);
  });

  it("writes every request and call with characters of the task's alphabet", () => {
    const alphabet = new Set(TASK_ALPHABET);
    for (const problem of problems) {
      const answer = formatCall(problem.call);
      for (const character of problem.request + answer) expect(alphabet.has(character), character).toBe(true);
    }
  });

  it("leaves requests unanswered when noise garbles the keyword or the city, or they are ambiguous", () => {
    expect(solveRequest("wether in Paris?")).toBeUndefined();
    expect(solveRequest("weather in Pariss?")).toBeUndefined();
    expect(solveRequest("weather in Paris or Rome?")).toBeUndefined();
    expect(solveRequest("weather and time in Paris")).toBeUndefined();
    expect(solveRequest("weatherr in Paris?")).toBeUndefined();
    expect(solveRequest("weather  in   Paris")).toEqual({ tool: "weather", city: "Paris" });
  });

  it("scores exact calls 1, partly right well-formed calls with partial credit, anything else 0", () => {
    const expected = { tool: "hotel", city: "Oslo" } as const;
    expect(scoreCall("hotel(Oslo)", expected)).toBe(1);
    expect(scoreCall(" hotel(Oslo) ", expected)).toBe(1);
    expect(scoreCall("flight(Oslo)", expected)).toBe(PARTIAL_CREDIT);
    expect(scoreCall("hotel(Olso)", expected)).toBe(PARTIAL_CREDIT);
    expect(scoreCall("time(Rome)", expected)).toBe(0);
    expect(scoreCall("hotel Oslo", expected)).toBe(0);
    expect(scoreCall("taxi(Oslo)", expected)).toBe(0);
    expect(scoreCall("hotel(Oslo))", expected)).toBe(0);
    expect(parseCall("weather(Lima)")).toEqual({ tool: "weather", city: "Lima" });
    expect(verifyExample("a room in Oslo", "hotel(Oslo)")).toBe(1);
    expect(verifyExample("a rom in Oslo", "hotel(Oslo)")).toBe(0);
  });

  it("draws requests reproducibly and rejects a bad count", () => {
    const a = sampleProblems(20, new SeededRandom(1)).map((problem) => problem.key);
    const b = sampleProblems(20, new SeededRandom(1)).map((problem) => problem.key);
    expect(a).toEqual(b);
    expect(() => sampleProblems(-1, new SeededRandom(1))).toThrow(InvalidArgumentError);
  });
});
