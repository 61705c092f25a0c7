/**
 * The guide's "Pipeline-Based Synthesis" section: a SynthesisPipeline grows a small seed set of arithmetic
 * questions to `targetSize` samples. A custom DataSynthesiser plays the part of an imperfect generator (it gets
 * some answers wrong), a second step turns kept questions into word problems, a verifier scores every sample,
 * `minScore` drops the wrong ones and `dedupThreshold` the repeats.
 *
 * Run it: `pnpm --filter @orbiter/examples example src/examples/synthesis-pipeline.ts`
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import {
  DataSynthesiser,
  type SynthesisContext,
  SynthesisPipeline,
  type SynthesisResult,
  type SynthesisStep,
} from "@orbiter/synthesis";
import type { Sample, SampleInput } from "@orbiter/types";

/** The operations the questions use. */
export type Operation = "+" | "-" | "*";

/** The exact answer of `a op b`. */
export function solve(a: number, op: Operation, b: number): number {
  if (op === "+") return a + b;
  if (op === "-") return a - b;
  return a * b;
}

/** Reads the operands a generated sample records in its metadata, if it has them. */
function problemOf(sample: Sample): { a: number; op: Operation; b: number } | undefined {
  const { a, op, b } = sample.metadata;
  if (typeof a !== "number" || typeof b !== "number") return undefined;
  if (op !== "+" && op !== "-" && op !== "*") return undefined;
  return { a, op, b };
}

/**
 * The scorer: 1 when the sample's answer is the exact result of the problem it states, 0 otherwise. A real
 * pipeline would call a verifier or an LLM judge here (it may be async).
 */
export function verifyAnswer(sample: Sample): number {
  const problem = problemOf(sample) ?? parseProblem(sample.input);
  if (problem === undefined) return 0;
  return Number(sample.output.trim()) === solve(problem.a, problem.op, problem.b) ? 1 : 0;
}

/** Reads `a op b` from a question such as "What is 3 + 4?". */
function parseProblem(text: string): { a: number; op: Operation; b: number } | undefined {
  const match = /(-?\d+)\s*([+\-*])\s*(-?\d+)/.exec(text);
  if (match === null) return undefined;
  return { a: Number(match[1]), op: match[2] as Operation, b: Number(match[3]) };
}

/** Options of {@link ArithmeticSynthesiser}. */
export interface ArithmeticSynthesiserOptions {
  /** Largest operand. @default 12 */
  maxOperand?: number;
  /** Share of answers the simulated generator gets wrong. @default 0.25 */
  errorRate?: number;
}

const PHRASINGS = [
  (a: number, op: Operation, b: number) => `What is ${a} ${op} ${b}?`,
  (a: number, op: Operation, b: number) => `Compute ${a} ${op} ${b}.`,
  (a: number, op: Operation, b: number) => `Calculate ${a} ${op} ${b} and give only the number.`,
];

/**
 * A custom synthesiser: writes new arithmetic questions in the style of the source samples, the way an LLM
 * prompted with a few examples would, including its mistakes (a share of the answers is off by a little).
 * Randomness comes from `context.rng`, so a run is reproducible from the pipeline's seed.
 */
export class ArithmeticSynthesiser extends DataSynthesiser {
  private readonly maxOperand: number;
  private readonly errorRate: number;

  constructor(options: ArithmeticSynthesiserOptions = {}) {
    super();
    this.maxOperand = options.maxOperand ?? 12;
    this.errorRate = options.errorRate ?? 0.25;
  }

  synthesise(_source: ReadonlyArray<Sample>, context: SynthesisContext): SampleInput[] {
    const { rng } = context;
    // Ask for a little more than needed: some will be filtered out.
    const count = Math.ceil(context.needed * 1.25);
    const operations: Operation[] = ["+", "-", "*"];
    return Array.from({ length: count }, () => {
      const a = rng.integer(0, this.maxOperand);
      const b = rng.integer(0, this.maxOperand);
      const op = rng.choice(operations);
      const phrase = rng.choice(PHRASINGS);
      let answer = solve(a, op, b);
      if (rng.bernoulli(this.errorRate)) answer += rng.choice([-2, -1, 1, 2]);
      return {
        input: phrase(a, op, b),
        output: String(answer),
        metadata: { a, op, b, source: "arithmetic" },
      };
    });
  }
}

const NAMES = ["Ada", "Linus", "Grace", "Alan", "Barbara"];

/**
 * A second step, written as a plain object (any `{ name, synthesise }` works): turns kept addition questions into
 * word problems with the same answer. It picks its sources at random, so it repeats itself; de-duplication
 * drops the repeats.
 */
export const wordProblems: SynthesisStep = {
  name: "word-problems",
  synthesise(source, context) {
    const additions = source.flatMap((sample) => {
      const problem = problemOf(sample);
      return problem?.op === "+" ? [{ id: sample.id, a: problem.a, b: problem.b }] : [];
    });
    if (additions.length === 0) return [];
    const count = Math.min(context.needed, 16);
    return Array.from({ length: count }, () => {
      const { id, a, b } = context.rng.choice(additions);
      const name = context.rng.choice(NAMES);
      return {
        input: `${name} has ${a} apples and buys ${b} more. How many apples does ${name} have now?`,
        output: String(a + b),
        metadata: { a, op: "+", b, source: "word-problem", from: id },
      };
    });
  },
};

/** Options of {@link main}. */
export interface SynthesisPipelineExampleOptions {
  /** Folder the synthesised samples are written to. @default a fresh folder under `os.tmpdir()` */
  dir?: string;
  /** Samples to aim for. @default 200 */
  targetSize?: number;
  /** Seed of the run. @default 7 */
  seed?: number;
  /** Where the account of the run goes. @default console.log */
  log?: (line: string) => void;
}

/** What {@link main} produced. */
export interface SynthesisPipelineExampleResult {
  /** The folder holding the output. */
  dir: string;
  /** The seed samples given to the pipeline. */
  seedData: SampleInput[];
  /** The pipeline's result. */
  result: SynthesisResult;
  /** The JSON Lines file holding `result.items`. */
  path: string;
}

/** Runs the pipeline on a four-sample seed set and writes the kept samples as JSON Lines. */
export async function main(
  options: SynthesisPipelineExampleOptions = {},
): Promise<SynthesisPipelineExampleResult> {
  const log = options.log ?? console.log;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), "orbiter-synthesis-pipeline-")));

  // Seed data: one answer is wrong and one question is repeated; the pipeline filters both.
  const seedData: SampleInput[] = [
    { input: "What is 2 + 3?", output: "5", metadata: { a: 2, op: "+", b: 3 } },
    { input: "Compute 7 * 6.", output: "42", metadata: { a: 7, op: "*", b: 6 } },
    { input: "What is 2 + 2?", output: "5", metadata: { a: 2, op: "+", b: 2 } },
    { input: "What is 2 + 3?", output: "5", metadata: { a: 2, op: "+", b: 3 } },
  ];

  const pipeline = new SynthesisPipeline({
    config: {
      targetSize: options.targetSize ?? 200,
      minScore: 0.7,
      dedupThreshold: 0.9,
      scorer: verifyAnswer,
      seed: options.seed ?? 7,
    },
  });
  pipeline.addStep(new ArithmeticSynthesiser({ maxOperand: 12, errorRate: 0.25 })).addStep(wordProblems);

  const result = await pipeline.run(seedData);

  log(`Generated: ${result.generatedCount}`);
  log(
    `Filtered: ${result.filteredCount} (${result.filtered.belowScore} below minScore, ${result.filtered.duplicate} duplicates)`,
  );
  log(
    `Kept ${result.items.length} of ${pipeline.config.targetSize} wanted (${result.seedCount} seed + ${result.acceptedCount} new) in ${result.rounds} rounds; stopped: ${result.stopReason}`,
  );
  log("Per step:");
  for (const step of result.steps) {
    log(
      `  ${step.name.padEnd(22)} calls ${step.calls}  generated ${step.generated}  accepted ${step.accepted}  below score ${step.belowScore}  duplicates ${step.duplicate}  surplus ${step.surplus}`,
    );
  }
  for (const sample of result.items.slice(-3)) log(`  e.g. ${sample.input} -> ${sample.output}`);

  const path = join(dir, "synthesised.jsonl");
  await writeFile(path, result.items.map((sample) => `${JSON.stringify(sample)}\n`).join(""));
  log(`Wrote ${result.items.length} samples to ${path}`);
  return { dir, seedData, result, path };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
