/**
 * The guide's "Template-Based Synthesis" section: a TemplateSynthesiser fills `{placeholders}` with every
 * combination of the variables' values, in a seeded order that uses each combination once before repeating.
 * A second synthesiser shows `{ input, output }` templates with a derived answer, for verifiable tasks.
 *
 * Run it: `pnpm --filter @orbiter/examples example src/examples/templates.ts`
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { type Sample, TemplateSynthesiser } from "@orbiter/train";

/** Options of {@link main}. */
export interface TemplatesOptions {
  /** Folder the samples are written to. @default a fresh folder under `os.tmpdir()` */
  dir?: string;
  /** Seed of the visiting order. @default 1 */
  seed?: number;
  /** Where the account of the run goes. @default console.log */
  log?: (line: string) => void;
}

/** What {@link main} produced. */
export interface TemplatesResult {
  /** The folder holding the output. */
  dir: string;
  /** Distinct (template, values) combinations of the guide's synthesiser. */
  size: number;
  /** The 50 samples of the guide's `generate(count=50)`. */
  items: Sample[];
  /** How often each distinct prompt was produced. */
  counts: Map<string, number>;
  /** Question / answer samples from the `{ input, output }` templates. */
  qa: Sample[];
  /** The JSON Lines files written. */
  files: { prompts: string; qa: string };
}

/** Generates the guide's 50 prompts and a few question / answer pairs, and writes both as JSON Lines. */
export async function main(options: TemplatesOptions = {}): Promise<TemplatesResult> {
  const log = options.log ?? console.log;
  const seed = options.seed ?? 1;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), "orbiter-templates-")));

  const synthesiser = new TemplateSynthesiser({
    templates: [
      "Explain {concept} in simple terms",
      "What are the pros and cons of {concept}?",
      "Compare {concept_a} with {concept_b}",
    ],
    variables: {
      concept: ["Python", "JavaScript", "Rust"],
      concept_a: ["REST", "GraphQL"],
      concept_b: ["gRPC", "WebSocket"],
    },
    seed,
  });

  const items = await synthesiser.generate(50);
  const counts = new Map<string, number>();
  for (const item of items) counts.set(item.input, (counts.get(item.input) ?? 0) + 1);
  log(`The templates span ${synthesiser.size} distinct prompts; generate(50) gave:`);
  for (const [prompt, count] of counts) log(`  ${count} x ${prompt}`);
  log(`  (each pass of ${synthesiser.size} samples uses every combination once, in a new seeded order)`);

  // Templates with an answer: the output is derived from the values, so every sample is verifiably correct.
  const arithmetic = new TemplateSynthesiser({
    templates: [
      { input: "What is {a} + {b}?", output: "{sum}" },
      { input: "What is {a} times {b}?", output: "{product}" },
    ],
    variables: { a: [2, 3, 4, 5], b: [10, 20, 30] },
    derive: { sum: (v) => Number(v.a) + Number(v.b), product: (v) => Number(v.a) * Number(v.b) },
    seed,
  });
  const qa = await arithmetic.generate(arithmetic.size);
  log(`Question / answer templates: ${arithmetic.size} pairs, e.g.`);
  for (const sample of qa.slice(0, 3)) log(`  ${sample.input} -> ${sample.output}`);

  const files = { prompts: join(dir, "prompts.jsonl"), qa: join(dir, "qa.jsonl") };
  await writeFile(files.prompts, items.map((item) => `${JSON.stringify(item)}\n`).join(""));
  await writeFile(files.qa, qa.map((item) => `${JSON.stringify(item)}\n`).join(""));
  log(`Wrote ${items.length} prompts to ${files.prompts} and ${qa.length} pairs to ${files.qa}`);
  return { dir, size: synthesiser.size, items, counts, qa, files };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
