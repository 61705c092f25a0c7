import { InvalidArgumentError, type SeededRandom } from "@orbiter/types";

/**
 * The demo's verifiable task: choosing the right tool call for a short travel request.
 *
 * A request such as `"is it raining in Oslo?"` must be answered with exactly one call, `weather(Oslo)`. Four tools
 * (weather, time, flight, hotel) are each asked for with four phrasings, about 24 cities: 384 distinct requests.
 * The verifier re-derives the right call from the request itself (a keyword names the tool, a known city is the
 * argument), so it can also judge synthesised and noisy requests that no one has labelled.
 */

/** The tools and the phrasings a user asks for them with (`{city}` is the argument). */
export const TOOLS = {
  weather: [
    "weather in {city}?",
    "is it raining in {city}?",
    "forecast for {city}",
    "will it snow in {city}?",
  ],
  time: ["time in {city}?", "what time is it in {city}?", "local clock in {city}", "is it night in {city}?"],
  flight: ["flights to {city}", "fly me to {city}", "book a plane to {city}", "next flight to {city}?"],
  hotel: ["hotel in {city}", "a room in {city}", "where to stay in {city}?", "book a bed in {city}"],
} as const satisfies Record<string, ReadonlyArray<string>>;

/** Name of a tool. */
export type ToolName = keyof typeof TOOLS;

/** The tool names, in a fixed order. */
export const TOOL_NAMES = Object.keys(TOOLS) as ToolName[];

/** The cities requests are about (at most five letters, so every call fits in 16 tokens). */
export const CITIES = [
  "Paris",
  "Tokyo",
  "Lima",
  "Oslo",
  "Rome",
  "Cairo",
  "Delhi",
  "Seoul",
  "Quito",
  "Dakar",
  "Perth",
  "Kyiv",
  "Riga",
  "Baku",
  "Doha",
  "Nice",
  "Bern",
  "Sofia",
  "Hanoi",
  "Accra",
  "Lagos",
  "Porto",
  "Turin",
  "Minsk",
] as const;

/** Which words reveal which tool (a request must match exactly one tool). */
const TOOL_KEYWORDS: Record<ToolName, RegExp> = {
  weather: /\b(weather|raining|forecast|snow)\b/,
  time: /\b(time|clock|night)\b/,
  flight: /\b(flights?|fly|plane)\b/,
  hotel: /\b(hotel|room|stay|bed)\b/,
};

/**
 * Every character requests and calls can contain, including the keyboard neighbours that noise augmentation
 * substitutes: the character tokenizer is built from it, so no text of the task is ever unknown to the policy.
 */
export const TASK_ALPHABET = " ?()abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/** One tool call: the tool and its single argument. */
export interface ToolCall {
  tool: ToolName;
  city: string;
}

/** One instance of the task: a request and the call that answers it. */
export interface Problem {
  /** Stable key of the request: `<tool>/<phrasing index>/<city>`. */
  key: string;
  /** What the user asks. */
  request: string;
  /** The right answer. */
  call: ToolCall;
}

/** Writes a call the way the policy must answer: `weather(Paris)`. */
export function formatCall(call: ToolCall): string {
  return `${call.tool}(${call.city})`;
}

/** Reads an answer as a tool call; `undefined` when it is not exactly `tool(Argument)` with a known tool. */
export function parseCall(answer: string): ToolCall | undefined {
  const match = /^([a-z]+)\(([A-Za-z]+)\)$/.exec(answer.trim());
  if (match === null) return undefined;
  const tool = match[1] as string;
  if (!(tool in TOOLS)) return undefined;
  return { tool: tool as ToolName, city: match[2] as string };
}

/**
 * The reference solver: the call a request asks for, or `undefined` when the request does not determine one (no
 * tool keyword or several, no known city or several). Noise that garbles the keyword or the city makes a request
 * unanswerable, and the verifier then scores it 0.
 */
export function solveRequest(request: string): ToolCall | undefined {
  const tools = TOOL_NAMES.filter((tool) => TOOL_KEYWORDS[tool].test(request));
  const words = new Set(request.split(/[^A-Za-z]+/));
  const cities = CITIES.filter((city) => words.has(city));
  if (tools.length !== 1 || cities.length !== 1) return undefined;
  return { tool: tools[0] as ToolName, city: cities[0] as string };
}

/** Partial credit of a well-formed call with the right tool or the right city (an exact call scores 1). */
export const PARTIAL_CREDIT = 0.2;

/**
 * The verifier: 1 for exactly the expected call, otherwise {@link PARTIAL_CREDIT} for each of the right tool and
 * the right city in a well-formed call, and 0 for anything malformed.
 */
export function scoreCall(answer: string, expected: ToolCall): number {
  const call = parseCall(answer);
  if (call === undefined) return 0;
  const tool = call.tool === expected.tool;
  const city = call.city === expected.city;
  if (tool && city) return 1;
  return (tool ? PARTIAL_CREDIT : 0) + (city ? PARTIAL_CREDIT : 0);
}

/**
 * Scores an `input → output` example by verification alone: the request must determine a call (see
 * {@link solveRequest}) and the output is scored against it. Labels are never trusted.
 */
export function verifyExample(request: string, answer: string): number {
  const expected = solveRequest(request);
  return expected === undefined ? 0 : scoreCall(answer, expected);
}

/** Every request of the task, in a fixed order (tool, phrasing, city). */
export function allProblems(): Problem[] {
  const problems: Problem[] = [];
  for (const tool of TOOL_NAMES) {
    TOOLS[tool].forEach((phrasing, index) => {
      for (const city of CITIES) {
        problems.push({
          key: `${tool}/${index}/${city}`,
          request: phrasing.replace("{city}", city),
          call: { tool, city },
        });
      }
    });
  }
  return problems;
}

/** `count` requests drawn uniformly (with repeats) from {@link allProblems}. */
export function sampleProblems(count: number, rng: SeededRandom): Problem[] {
  if (!Number.isInteger(count) || count < 0) {
    throw new InvalidArgumentError(`count must be a non-negative integer, got ${count}`, {
      field: "count",
      value: count,
    });
  }
  const problems = allProblems();
  return Array.from({ length: count }, () => rng.choice(problems));
}
