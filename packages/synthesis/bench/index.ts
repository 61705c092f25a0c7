/**
 * Benchmarks of @orbiter/synthesis. Prints one JSON line per measurement (see CONTRIBUTING.md) and writes
 * the same lines to bench-results/synthesis.jsonl at the repository root. Progress goes to stderr.
 *
 *   pnpm --filter @orbiter/synthesis bench
 */
import { BenchReporter, type Measurement, median } from "../../../scripts/bench-reporter.js";
import {
  deduplicate,
  exactShingleJaccard,
  findNearDuplicates,
  NearDuplicateIndex,
  SynthesisPipeline,
  TemplateSynthesiser,
} from "../src/index.js";
import { exactGreedyRemovals, exactSimilarPairs } from "../src/internal/exact-pairs.js";
import { nearDuplicateCorpus } from "../src/internal/near-duplicate-corpus.js";

const reporter = new BenchReporter("@orbiter/synthesis", "synthesis");
const report = (measurement: Measurement) => reporter.report(measurement);
const log = (message: string) => reporter.log(message);

// --- Near-duplicate removal -------------------------------------------------------------------------------
const THRESHOLD = 0.9;
const COUNT = 100_000;
log(`generating ${COUNT} samples of ~200 characters, ~30% near-duplicates (1–5% character edits)`);
const corpus = nearDuplicateCorpus(COUNT, { seed: 2024, length: 200, duplicateFraction: 0.3 });
const samples = corpus.texts.map((text, i) => ({ id: `s${i}`, input: text, output: "", metadata: {} }));

// Warm up the JIT on a slice, then time whole runs.
deduplicate(samples.slice(0, 5000), { threshold: THRESHOLD, key: "input" });
const rates: number[] = [];
let kept = 0;
for (let run = 0; run < 3; run++) {
  const started = performance.now();
  kept = deduplicate(samples, { threshold: THRESHOLD, key: "input" }).length;
  const seconds = (performance.now() - started) / 1000;
  rates.push(COUNT / seconds);
  log(`dedup run ${run + 1}: ${(COUNT / seconds).toFixed(0)} docs/s, kept ${kept} of ${COUNT}`);
}
const lsh = new NearDuplicateIndex({ threshold: THRESHOLD }).lsh;
report({
  name: "dedup-throughput",
  value: Math.round(median(rates)),
  unit: "docs/s",
  target: 20_000,
  comparison: ">=",
  runs: rates.map(Math.round),
  samples: COUNT,
  threshold: THRESHOLD,
  kept,
  lsh: lsh ? { bands: lsh.bands, rows: lsh.rows } : null,
  reference: "datasketch MinHashLSH ≈ 2,300 docs/s",
});

// The classic scheme (one hash per signature value), for comparison; informational, no target.
{
  const started = performance.now();
  const keptClassic = deduplicate(samples, {
    threshold: THRESHOLD,
    key: "input",
    hashing: "independent",
  }).length;
  const rate = COUNT / ((performance.now() - started) / 1000);
  log(`dedup with independent hashing: ${rate.toFixed(0)} docs/s, kept ${keptClassic}`);
  report({
    name: "dedup-throughput-independent-hashing",
    value: Math.round(rate),
    unit: "docs/s",
    kept: keptClassic,
  });
}

// --- Accuracy against exact all-pairs on a subset ---------------------------------------------------------
const SUBSET = 5000;
const subset = corpus.texts.slice(0, SUBSET);
log(`exact all-pairs Jaccard on ${SUBSET} samples (${((SUBSET * (SUBSET - 1)) / 2).toLocaleString()} pairs)`);
const truePairs = exactSimilarPairs(subset, THRESHOLD, 5);
// Candidacy depends only on the two texts and the seed, so a two-text index tells whether LSH finds a pair.
let found = 0;
for (const [i, j] of truePairs) {
  const index = new NearDuplicateIndex({ threshold: THRESHOLD });
  index.add(subset[i] as string);
  if (index.find(subset[j] as string)) found++;
}
const report5k = findNearDuplicates(
  subset.map((text, i) => ({ id: String(i), input: text, output: "" })),
  { threshold: THRESHOLD, key: "input" },
);
const exactRemoved = exactGreedyRemovals(SUBSET, truePairs);
let justified = 0;
for (const { index, duplicateOf } of report5k.removed) {
  if (exactShingleJaccard(subset[index] as string, subset[duplicateOf] as string, 5) >= THRESHOLD)
    justified++;
}
const agreed = report5k.removed.filter((r) => exactRemoved.has(r.index)).length;
report({
  name: "dedup-recall",
  value: truePairs.length === 0 ? 1 : found / truePairs.length,
  unit: "fraction of exact pairs found by LSH",
  target: 0.95,
  comparison: ">=",
  pairs: truePairs.length,
  found,
  subset: SUBSET,
  removalRecall: exactRemoved.size === 0 ? 1 : agreed / exactRemoved.size,
  removedExact: exactRemoved.size,
  removedLsh: report5k.removed.length,
});
report({
  name: "dedup-precision",
  value: report5k.removed.length === 0 ? 1 : justified / report5k.removed.length,
  unit: "fraction of removals at or above the threshold (exact Jaccard)",
  target: 1,
  comparison: ">=",
  removed: report5k.removed.length,
  subset: SUBSET,
});

// The workload's 1–5% edits leave few pairs at ≥ 0.9; lighter edits (0.2–2%) give many more pairs to
// measure recall on.
{
  const light = nearDuplicateCorpus(3000, { seed: 99, editRate: [0.002, 0.02] }).texts;
  const pairs = exactSimilarPairs(light, THRESHOLD, 5);
  let hits = 0;
  for (const [i, j] of pairs) {
    const index = new NearDuplicateIndex({ threshold: THRESHOLD });
    index.add(light[i] as string);
    if (index.find(light[j] as string)) hits++;
  }
  report({
    name: "dedup-recall-light-edits",
    value: pairs.length === 0 ? 1 : hits / pairs.length,
    unit: "fraction of exact pairs found by LSH",
    target: 0.95,
    comparison: ">=",
    pairs: pairs.length,
    found: hits,
    subset: light.length,
  });
}

// --- Template generation ----------------------------------------------------------------------------------
const numbers = Array.from({ length: 1000 }, (_, i) => i);
const synthesiser = new TemplateSynthesiser({
  templates: [
    { input: "What is {a} + {b}?", output: "{sum}" },
    "Explain {concept} in simple terms",
    "Compare {x} with {y} when building {concept} services",
  ],
  variables: {
    a: numbers,
    b: numbers,
    concept: ["Python", "JavaScript", "Rust", "Go", "TypeScript"],
    x: ["REST", "GraphQL", "SOAP"],
    y: ["gRPC", "WebSocket", "MQTT"],
  },
  derive: { sum: (v) => Number(v.a) + Number(v.b) },
  seed: 1,
});
synthesiser.generateAt(0, 200_000);
const templateRates: number[] = [];
const TEMPLATE_COUNT = 1_000_000;
for (let run = 0; run < 3; run++) {
  const started = performance.now();
  let produced = 0;
  for (let start = 0; start < TEMPLATE_COUNT; start += 100_000)
    produced += synthesiser.generateAt(start, 100_000).length;
  templateRates.push(produced / ((performance.now() - started) / 1000));
}
log(`template runs: ${templateRates.map((r) => r.toFixed(0)).join(", ")} samples/s`);
report({
  name: "template-generation",
  value: Math.round(median(templateRates)),
  unit: "samples/s",
  target: 500_000,
  comparison: ">=",
  runs: templateRates.map(Math.round),
  space: synthesiser.size,
});

// --- A whole pipeline run (informational) -----------------------------------------------------------------
{
  const run = async () => {
    const step = new TemplateSynthesiser({
      templates: [{ input: "What is {a} + {b}?", output: "{sum}" }],
      variables: { a: numbers, b: numbers },
      derive: { sum: (v) => Number(v.a) + Number(v.b) },
      seed: 2,
      batchSize: 10_000,
    });
    const pipeline = new SynthesisPipeline({
      config: { targetSize: 100_000, maxRounds: 100, dedupThreshold: 0.9 },
    });
    const started = performance.now();
    const result = await pipeline.addStep(step).run([]);
    return {
      rate: result.generatedCount / ((performance.now() - started) / 1000),
      kept: result.items.length,
    };
  };
  await run();
  const { rate, kept } = await run();
  log(`pipeline: ${rate.toFixed(0)} samples/s`);
  report({
    name: "pipeline-template-dedup",
    value: Math.round(rate),
    unit: "samples/s",
    kept,
    threshold: 0.9,
  });
}

reporter.save();
