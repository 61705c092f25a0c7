import {
  augmentAddNoise,
  type SynthesisContext,
  SynthesisPipeline,
  type SynthesisStep,
  splitDataset,
  TemplateSynthesiser,
} from "@orbiter/synthesis";
import { TrajectoryDataset } from "@orbiter/trajectory";
import { deriveSeed, type Sample, type SampleInput } from "@orbiter/types";
import { type DemoContext, elapsedSince } from "../demo-context.js";
import type { SynthesisPhaseResult } from "../demo-results.js";
import { requireResult, saveResult } from "../result-files.js";
import { writeSamples } from "../sample-files.js";
import { CITIES, TOOL_NAMES, TOOLS, verifyExample } from "../task.js";

/** Share of the kept samples in the training, validation and test splits. */
export const SPLIT_RATIOS = [0.7, 0.1, 0.2] as const;

/** Noisy copies made per round at most. */
const NOISE_PER_ROUND = 80;

/**
 * A synthesis step that makes noisy copies of requests already kept (typos, dropped or doubled letters, a
 * dropped word), as users type them. The pipeline's verifier scores each copy again: a copy whose keyword or
 * city was garbled no longer determines a call and is filtered out.
 */
export class NoisyRequestStep implements SynthesisStep {
  readonly name = "noisy-requests";

  constructor(
    private readonly seed: number,
    private readonly noiseLevel = 0.2,
  ) {}

  synthesise(source: ReadonlyArray<Sample>, context: SynthesisContext): SampleInput[] {
    const originals = source.filter((sample) => sample.metadata.origin !== "noise");
    if (originals.length === 0 || context.needed === 0) return [];
    const count = Math.min(NOISE_PER_ROUND, context.needed, originals.length);
    // Only the fields noise needs: the Sample type's optional `score` (number | undefined) is not assignable to
    // augmentAddNoise's SampleLike under exactOptionalPropertyTypes.
    const chosen = context.rng
      .sample(originals, count)
      .map(({ id, input, output, metadata }) => ({ id, input, output, metadata }));
    const noisy = augmentAddNoise(chosen, {
      noiseLevel: this.noiseLevel,
      seed: deriveSeed(this.seed, "noise", context.round),
    });
    return noisy.map((sample) => ({
      id: `${sample.id}:noise-${context.round}`,
      input: sample.input,
      output: sample.output,
      metadata: { ...sample.metadata, origin: "noise" },
    }));
  }
}

/** The template synthesiser of the task: every phrasing of every tool, for every city. */
export function taskTemplates(seed: number, batchSize: number): TemplateSynthesiser {
  return new TemplateSynthesiser({
    templates: TOOL_NAMES.flatMap((tool) =>
      TOOLS[tool].map((phrasing) => ({
        input: phrasing,
        output: `${tool}({city})`,
        metadata: { origin: "template", tool },
      })),
    ),
    variables: { city: [...CITIES] },
    seed,
    idPrefix: "template-",
    batchSize,
  });
}

/**
 * Phase 2: cleans and grows the captured data. The agent's episodes are the seed (those the verifier scores
 * below 1 — the teacher's mistakes — are filtered out), templates add new requests, noise adds typed-by-a-human variants; every new sample is scored
 * by the verifier, filtered by score and de-duplicated (near-duplicates of kept samples are dropped). The result
 * is split into training, validation and test sets, keeping all requests for one call in the same split, so the
 * test calls are never seen in training.
 */
export async function runSynthesis(context: DemoContext): Promise<SynthesisPhaseResult> {
  const started = performance.now();
  const { options, paths } = context;
  await requireResult(paths, "capture", "synthesis");
  const trajectories = await TrajectoryDataset.fromJsonl(paths.datasets.jsonl);
  // A captured episode seeds the task `request → call`: its first tool call when the whole episode was right
  // (right call and right final answer), nothing otherwise (the verifier then drops it).
  const seedData: Sample[] = trajectories.items.map((item) => ({
    id: item.id,
    input: item.state,
    output: item.status === "success" ? String(item.metadata.call ?? "") : "",
    score: item.reward,
    metadata: { ...item.metadata, origin: "agent" },
  }));
  const pipeline = new SynthesisPipeline({
    config: {
      targetSize: options.targetSize,
      minScore: 1,
      dedupThreshold: 0.9,
      dedupKey: "both",
      seed: deriveSeed(options.seed, "synthesis"),
      maxRounds: 20,
      scorer: (sample) => verifyExample(sample.input, sample.output),
    },
  });
  pipeline.addStep(taskTemplates(deriveSeed(options.seed, "templates"), Math.ceil(options.targetSize / 4)));
  pipeline.addStep(new NoisyRequestStep(deriveSeed(options.seed, "noise")));
  const progress = context.progress("synthesis");
  progress.start(options.targetSize);
  let shown = -1;
  let result: Awaited<ReturnType<SynthesisPipeline["run"]>>;
  try {
    result = await pipeline.run(seedData, {
      onProgress: (event) => {
        if (event.kept === shown) return;
        shown = event.kept;
        progress.update(event.kept, { generated: event.generated, filtered: event.filtered });
      },
    });
  } finally {
    progress.stop();
  }
  const items = result.items;
  const byOrigin: Record<string, number> = {};
  for (const sample of items) {
    const origin = String(sample.metadata.origin ?? "unknown");
    byOrigin[origin] = (byOrigin[origin] ?? 0) + 1;
  }
  const [train, validation, test] = splitDataset(items, {
    ratios: SPLIT_RATIOS,
    seed: deriveSeed(options.seed, "split"),
    groupBy: (sample) => sample.output,
  });
  await writeSamples(paths.datasets.synthesized, items);
  await writeSamples(paths.datasets.train, train);
  await writeSamples(paths.datasets.validation, validation);
  await writeSamples(paths.datasets.test, test);
  const phase: SynthesisPhaseResult = {
    phase: "synthesis",
    backend: context.backend,
    durationMs: elapsedSince(started),
    seedGiven: seedData.length,
    seedKept: result.seedCount,
    generated: result.generatedCount,
    accepted: result.acceptedCount,
    belowScore: result.filtered.belowScore,
    duplicates: result.filtered.duplicate,
    byOrigin,
    splits: { train: train.length, validation: validation.length, test: test.length },
  };
  context.log(
    `synthesis: ${items.length} verified samples (${Object.entries(byOrigin)
      .map(([origin, count]) => `${count} ${origin}`)
      .join(
        ", ",
      )}); ${phase.belowScore} dropped by the verifier score, ${phase.duplicates} near-duplicates removed; ` +
      `split ${train.length} train / ${validation.length} validation / ${test.length} test (test calls never seen in training)`,
  );
  await saveResult(paths, phase);
  return phase;
}
