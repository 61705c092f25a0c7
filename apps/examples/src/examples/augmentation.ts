/**
 * The guide's "Data Augmentation Functions" section: augmentAddNoise, augmentSwapIo, filterByScore, deduplicate
 * and splitDataset, each applied to a scored support-desk dataset as in the guide, then combined the way a
 * training set is usually prepared: filter, de-duplicate, split, and augment only the training split (so no
 * copy of a validation or test sample leaks into training).
 *
 * Run it: `pnpm --filter @orbiter/examples example src/examples/augmentation.ts`
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { augmentAddNoise, augmentSwapIo, deduplicate, filterByScore, splitDataset } from "@orbiter/synthesis";
import { type Sample, SeededRandom } from "@orbiter/types";

/** A sample whose quality score is known (every sample of this dataset has one). */
export type ScoredSample = Omit<Sample, "score"> & { score: number };

const PRODUCTS = [
  "the mobile app",
  "the web dashboard",
  "the billing portal",
  "the desktop client",
  "the API",
  "the browser extension",
  "the admin console",
  "the status page",
];
const PROBLEMS = [
  {
    ask: "How do I reset my password in {p}?",
    answer: "Open {p}, choose Settings, then Security, and follow the reset link we email you.",
  },
  {
    ask: "Why can't I log in to {p} after the update?",
    answer: "Clear the cached session of {p} and sign in again; the update invalidated old tokens.",
  },
  {
    ask: "How can I export my data from {p}?",
    answer: "In {p}, open Account, choose Export and pick CSV or JSON; the file is ready in minutes.",
  },
  {
    ask: "Where do I change my notification settings in {p}?",
    answer: "Go to Preferences in {p}, then Notifications, and toggle the channels you want.",
  },
  {
    ask: "Is two-factor authentication available in {p}?",
    answer: "Yes: enable it in {p} under Security with any authenticator app or a hardware key.",
  },
  {
    ask: "How do I add a team member to {p}?",
    answer: "Admins can invite people from the Members page of {p}; invitations expire after seven days.",
  },
];

/** Ids of the samples planted as copies of earlier ones (exact or with a one-character edit). */
export const PLANTED_DUPLICATES = [
  "dup-exact-0",
  "dup-exact-1",
  "dup-near-0",
  "dup-near-1",
  "dup-near-2",
  "dup-near-3",
];

/**
 * A support-desk dataset: 48 distinct question / answer pairs with quality scores (from a grader, say), plus
 * two exact copies and four near-copies (one character changed) of earlier pairs.
 */
export function supportDataset(seed = 3): ScoredSample[] {
  const rng = new SeededRandom(seed);
  const data: ScoredSample[] = [];
  for (const problem of PROBLEMS) {
    for (const product of PRODUCTS) {
      data.push({
        id: `qa-${data.length}`,
        input: problem.ask.replaceAll("{p}", product),
        output: problem.answer.replaceAll("{p}", product),
        score: Math.round(rng.uniform(0.45, 1) * 100) / 100,
        metadata: { product },
      });
    }
  }
  const copy = (id: string, from: number, edit: (text: string) => string): ScoredSample => {
    const original = data[from] as ScoredSample;
    return { ...original, id, input: edit(original.input) };
  };
  data.push(copy("dup-exact-0", 3, (text) => text));
  data.push(copy("dup-exact-1", 17, (text) => text));
  data.push(copy("dup-near-0", 5, (text) => text.replace(/\?$/, "!")));
  data.push(copy("dup-near-1", 11, (text) => text.replace("How", "how")));
  data.push(copy("dup-near-2", 22, (text) => text.replace(/\?$/, " ?")));
  data.push(copy("dup-near-3", 40, (text) => text.replace(" in ", " in  ")));
  return data;
}

/** Options of {@link main}. */
export interface AugmentationOptions {
  /** Folder the splits are written to. @default a fresh folder under `os.tmpdir()` */
  dir?: string;
  /** Seed of the noise and of the split. @default 1 */
  seed?: number;
  /** Where the account of the run goes. @default console.log */
  log?: (line: string) => void;
}

/** What {@link main} produced. */
export interface AugmentationResult {
  /** The folder holding the splits. */
  dir: string;
  /** The raw dataset. */
  data: ScoredSample[];
  /** The guide's calls, each on the raw dataset. */
  noisy: ScoredSample[];
  swapped: ScoredSample[];
  filtered: ScoredSample[];
  unique: ScoredSample[];
  split: { train: ScoredSample[]; val: ScoredSample[]; test: ScoredSample[] };
  /** The combined preparation: filter → de-duplicate → split → augment the training split only. */
  prepared: { clean: ScoredSample[]; train: ScoredSample[]; val: ScoredSample[]; test: ScoredSample[] };
  /** The JSON Lines files of the prepared splits. */
  files: { train: string; val: string; test: string };
}

/** Applies each augmentation function as in the guide, then prepares train / validation / test files. */
export async function main(options: AugmentationOptions = {}): Promise<AugmentationResult> {
  const log = options.log ?? console.log;
  const seed = options.seed ?? 1;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), "orbiter-augmentation-")));
  const data = supportDataset();
  log(`Dataset: ${data.length} scored question / answer pairs (${PLANTED_DUPLICATES.length} planted copies)`);

  // Add noise to data (for robustness).
  const noisy = augmentAddNoise(data, { noiseLevel: 0.1, seed });
  const changed = noisy.flatMap((sample, i) => (sample.input === data[i]?.input ? [] : [i]));
  log(`augmentAddNoise: ${noisy.length} noisy copies, ${changed.length} with edited text, e.g.`);
  const example = changed[0] ?? 0;
  log(`  ${data[example]?.input}\n  ${noisy[example]?.input}`);

  // Swap input/output for reverse-training.
  const swapped = augmentSwapIo(data);
  log(
    `augmentSwapIo: ${swapped.length} copies answering with the question, e.g. "${swapped[0]?.input.slice(0, 40)}..."`,
  );

  // Filter low-quality items.
  const filtered = filterByScore(data, { minScore: 0.7 });
  log(`filterByScore(minScore 0.7): kept ${filtered.length} of ${data.length}`);

  // Remove near-duplicates.
  const unique = deduplicate(data, { threshold: 0.9 });
  const keptIds = new Set(unique.map((sample) => sample.id));
  const removed = data.filter((sample) => !keptIds.has(sample.id)).map((sample) => sample.id);
  log(`deduplicate(threshold 0.9): kept ${unique.length}, removed ${removed.join(", ")}`);

  // Split into train/validation/test.
  const [train, val, test] = splitDataset(data, { ratios: [0.8, 0.1, 0.1], seed });
  log(`splitDataset([0.8, 0.1, 0.1]): ${train.length} / ${val.length} / ${test.length}`);

  // Together: clean first, split, then augment only the training split.
  const clean = deduplicate(filterByScore(data, { minScore: 0.7 }), { threshold: 0.9 });
  const [cleanTrain, cleanVal, cleanTest] = splitDataset(clean, { ratios: [0.8, 0.1, 0.1], seed });
  const preparedTrain = [
    ...cleanTrain,
    ...augmentAddNoise(cleanTrain, { noiseLevel: 0.1, seed }),
    ...augmentSwapIo(cleanTrain),
  ];
  const files = {
    train: join(dir, "train.jsonl"),
    val: join(dir, "val.jsonl"),
    test: join(dir, "test.jsonl"),
  };
  const write = (path: string, samples: ScoredSample[]) =>
    writeFile(path, samples.map((sample) => `${JSON.stringify(sample)}\n`).join(""));
  await write(files.train, preparedTrain);
  await write(files.val, cleanVal);
  await write(files.test, cleanTest);
  log(
    `Prepared: ${clean.length} clean samples -> train ${preparedTrain.length} (${cleanTrain.length} + noisy + swapped), val ${cleanVal.length}, test ${cleanTest.length}`,
  );
  log(`Wrote ${files.train}, ${files.val} and ${files.test}`);

  return {
    dir,
    data,
    noisy,
    swapped,
    filtered,
    unique,
    split: { train, val, test },
    prepared: { clean, train: preparedTrain, val: cleanVal, test: cleanTest },
    files,
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
