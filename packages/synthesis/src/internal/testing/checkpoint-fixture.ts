/**
 * A small, slow, deterministic pipeline used by the checkpoint tests, runnable as a child process:
 * `node --conditions=@orbiter/source --import tsx checkpoint-fixture.ts <checkpoint path>` prints a JSON
 * summary of the result when it finishes.
 */
import { pathToFileURL } from "node:url";
import type { Sample } from "@orbiter/types";
import { DataSynthesiser, type SynthesisContext } from "../../pipeline/data-synthesiser.js";
import { SynthesisPipeline } from "../../pipeline/synthesis-pipeline.js";
import { TemplateSynthesiser } from "../../templates/template-synthesiser.js";

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A step whose output depends only on the context's generator; it sleeps to make runs slow enough to kill. */
class SlowRandomStep extends DataSynthesiser {
  constructor(private readonly delayMs: number) {
    super();
  }
  async synthesise(_source: ReadonlyArray<Sample>, context: SynthesisContext) {
    await wait(this.delayMs);
    return Array.from({ length: 4 }, () => {
      const k = context.rng.integer(0, 60);
      return { input: `Summarise document number ${k} in one line`, output: `summary ${k}` };
    });
  }
}

/** Builds the fixture pipeline; `delayMs` slows every step call and every score. */
export function fixturePipeline(checkpoint: string | undefined, delayMs = 0): SynthesisPipeline {
  return new SynthesisPipeline({
    config: {
      targetSize: 90,
      maxRounds: 200,
      seed: 11,
      minScore: 0.2,
      dedupThreshold: 0.85,
      concurrency: 2,
      scorer: async (sample) => {
        if (delayMs > 0) await wait(delayMs / 4);
        return (sample.input.length % 7) / 6;
      },
    },
    ...(checkpoint === undefined ? {} : { checkpoint }),
  })
    .addStep(
      new TemplateSynthesiser({
        templates: [
          { input: "What is {a} times {b}?", output: "{product}" },
          "Define {word} in one sentence",
        ],
        variables: {
          a: [2, 3, 4, 5, 6, 7],
          b: [11, 12, 13],
          word: ["entropy", "gradient", "policy", "reward"],
        },
        derive: { product: (v) => Number(v.a) * Number(v.b) },
        seed: 4,
        batchSize: 3,
      }),
    )
    .addStep(new SlowRandomStep(delayMs));
}

/** The seed data of the fixture run. */
export const fixtureSeed = [
  { id: "seed-a", input: "What is 2 times 11?", output: "22", score: 1 },
  { id: "seed-b", input: "Define entropy in one sentence", output: "A measure of uncertainty.", score: 0.1 },
];

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const path = process.argv[2];
  const result = await fixturePipeline(path, Number(process.argv[3] ?? 30)).run(fixtureSeed);
  process.stdout.write(`${JSON.stringify({ items: result.items.length, resumed: result.resumed })}\n`);
}
