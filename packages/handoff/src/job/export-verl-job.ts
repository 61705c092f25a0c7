import { createHash } from "node:crypto";
import { chmod, mkdir, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import {
  fsyncDirectory,
  InvalidArgumentError,
  onPath,
  parseWith,
  type Sample,
  temporarySibling,
} from "@orbiter/types";
import { parseRewardSpecs, type RewardSpecInput, VeRLConfig, type VeRLConfigInput } from "@orbiter/verl";
import { z } from "zod";
import { type SampleList, verlRowsFromSamples } from "../convert/sample-rows.js";
import type { VerlRow } from "../formats/verl-row.js";
import { writeAtomically } from "../internal/atomic-file.js";
import { writeVerlParquet } from "../io/verl-parquet.js";
import { renderJobReadme } from "./job-readme.js";
import { renderRewardFunction } from "./reward-fn-script.js";
import { renderRunScript } from "./run-script.js";
import { totalTrainingSteps, verlOverrides } from "./verl-overrides.js";
import { checkVerlSettings } from "./verl-settings.js";
import { VERL_VERSION } from "./verl-version.js";

/** The job-level options of {@link exportVerlJob} (everything but the data, config and rewards). */
export const VerlJobOptions = z.strictObject({
  /** Hugging Face model id or path on the cluster, e.g. `"Qwen/Qwen2.5-0.5B-Instruct"`. */
  model: z.string().min(1),
  /** Default reward server URL baked into `reward_fn.py` (`ORBITER_REWARD_URL` wins at run time). @default none */
  rewardUrl: z.url({ protocol: /^https?$/ }).optional(),
  /** Ray nodes. @default 1 */
  nodes: z.number().int().positive().default(1),
  /** GPUs per node. @default 8 */
  gpusPerNode: z.number().int().positive().default(8),
  /** Longest prompt, in tokens of the model's tokenizer (verl `data.max_prompt_length`). @default 1024 */
  maxPromptLength: z.number().int().positive().default(1024),
  /** Rollout engine. @default "vllm" */
  rollout: z.enum(["vllm", "sglang"]).default("vllm"),
  /** Tensor-parallel size of the rollout engine. @default 1 */
  tensorParallelSize: z.number().int().positive().default(1),
  /** Share of each GPU's memory the rollout engine may take. @default 0.5 */
  gpuMemoryUtilization: z.number().gt(0).max(1).default(0.5),
  /** verl trainer loggers. @default ["console"] */
  loggers: z.array(z.string().min(1)).min(1).default(["console"]),
  /** `trainer.project_name`. @default "orbiter" */
  projectName: z.string().min(1).default("orbiter"),
  /** `trainer.experiment_name`. @default the job folder's name */
  experimentName: z.string().min(1).optional(),
  /** `data_source` of rows built from samples. @default "orbiter" */
  dataSource: z.string().min(1).default("orbiter"),
  /** Seconds `reward_fn.py` waits for one answer. @default 60 */
  rewardTimeoutSeconds: z.number().positive().default(60),
});

/** Options of {@link exportVerlJob}. */
export interface ExportVerlJobOptions extends z.input<typeof VerlJobOptions> {
  /** Training data: verl rows, samples, or a `TrajectoryDataset` (state = prompt, action = reference). */
  train: ReadonlyArray<VerlRow> | SampleList;
  /** Validation data, in the same forms. @default none (no validation during the job) */
  val?: ReadonlyArray<VerlRow> | SampleList;
  /** The training settings, as `VeRLTrainer` takes them. */
  config: VeRLConfigInput;
  /** The reward specs the server scores with (checked, and named in the README and manifest). @default none */
  rewards?: ReadonlyArray<RewardSpecInput>;
}

/** What {@link exportVerlJob} wrote. */
export interface VerlJobSummary {
  /** The job folder. */
  dir: string;
  /** Files written, by name, with their sha256, size and rows (data rows, or lines of a text file). */
  files: Record<string, { sha256: string; bytes: number; rows: number }>;
  /** Optimiser steps the job will run. */
  totalSteps: number;
  /** The command to start it. */
  command: string;
}

const MANIFEST_SCHEMA_VERSION = 1;

function isVerlRows(value: unknown): value is ReadonlyArray<VerlRow> {
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    typeof value[0] === "object" &&
    value[0] !== null &&
    "data_source" in value[0]
  );
}

function toRows(data: unknown, field: string, dataSource: string, split: string): VerlRow[] {
  if (isVerlRows(data)) return [...data];
  const samples = Array.isArray(data)
    ? data
    : data !== null && typeof data === "object" && "toSamples" in data
      ? (data as { toSamples(): Sample[] }).toSamples()
      : undefined;
  if (samples === undefined || samples.length === 0) {
    throw new InvalidArgumentError(
      `${field} must be a non-empty array of verl rows or samples, or a TrajectoryDataset`,
      {
        field,
      },
    );
  }
  return verlRowsFromSamples(samples, { dataSource, split, path: field });
}

function countLines(text: string): number {
  return text === "" ? 0 : text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** True when `dir/manifest.json` is the manifest of a job this function wrote. */
async function holdsJob(dir: string): Promise<boolean> {
  try {
    const manifest: unknown = JSON.parse(await readFile(join(dir, "manifest.json"), "utf8"));
    return (manifest as { generator?: unknown } | null)?.generator === "@orbiter/handoff";
  } catch {
    return false;
  }
}

/** Throws unless `dir` is absent, an empty folder or an earlier job: a user's file or folder is never deleted. */
async function checkReplaceable(dir: string): Promise<void> {
  const found = await stat(dir).catch(() => undefined);
  if (found === undefined) return;
  if (!found.isDirectory()) {
    throw new InvalidArgumentError(`Cannot write the job to ${dir}: a file of that name exists`, {
      field: "dir",
    });
  }
  if ((await readdir(dir)).length > 0 && !(await holdsJob(dir))) {
    throw new InvalidArgumentError(
      `Cannot write the job to ${dir}: the folder holds other files (it is not an earlier job); choose an empty or new folder`,
      { field: "dir" },
    );
  }
}

/** Fills a temporary sibling of `dir`, then swaps it in; a failure removes it and rethrows unchanged. */
async function buildDirectory<T>(dir: string, fill: (temporary: string) => Promise<T>): Promise<T> {
  await checkReplaceable(dir);
  const temporary = temporarySibling(dir);
  await onPath(
    dir,
    "write to",
    async () => {
      await mkdir(dirname(dir), { recursive: true });
      await mkdir(temporary);
    },
    "dir",
  );
  let result: T;
  try {
    result = await fill(temporary);
  } catch (error) {
    await rm(temporary, { recursive: true, force: true });
    throw error;
  }
  const previous = (await exists(dir)) ? `${temporary}.old` : undefined;
  if (previous) await rename(dir, previous);
  await rename(temporary, dir);
  await fsyncDirectory(dirname(dir));
  if (previous) await rm(previous, { recursive: true, force: true });
  return result;
}

/**
 * Writes a verl job that runs unchanged on a Ray cluster with verl installed: `train.parquet` (and
 * `val.parquet`), `reward_fn.py` (standard-library Python posting to `serveRewards`), `run_verl.sh`
 * (`python3 -m verl.trainer.main_ppo` with Hydra overrides mapped from the VeRLConfig), `manifest.json` (schema
 * version, sha256 and rows of every file, the source config, every override) and `README.md`. Every VeRLConfig
 * field is mapped, or is local to this machine (backend, workers, the local model's sizes, …), or is refused
 * with an `InvalidArgumentError` naming it when verl has no equivalent. The folder is built beside `dir` and
 * swapped in only when complete; a refused input leaves nothing behind. An earlier job at `dir` is replaced; a
 * file or a folder of other files there is refused (`InvalidArgumentError`, field `dir`) and left as it was.
 *
 * @example
 * ```ts
 * const job = await exportVerlJob("jobs/arithmetic", {
 *   train, val, model: "Qwen/Qwen2.5-0.5B-Instruct", nodes: 1, gpusPerNode: 8,
 *   config: { algorithm: "grpo", batchSize: 64, groupSize: 8, learningRate: 1e-6 },
 *   rewards, rewardUrl: "http://10.0.0.5:8700",
 * });
 * console.log(job.command); // bash jobs/arithmetic/run_verl.sh
 * ```
 */
export async function exportVerlJob(dir: string, options: ExportVerlJobOptions): Promise<VerlJobSummary> {
  if (typeof dir !== "string" || dir === "") {
    throw new InvalidArgumentError("dir must be a non-empty path", { field: "dir", value: dir });
  }
  if (options === null || typeof options !== "object") {
    throw new InvalidArgumentError("exportVerlJob needs options", { field: "options" });
  }
  const { train, val, config: configInput, rewards: rewardInput, ...jobInput } = options;
  const job = parseWith(VerlJobOptions, jobInput, { what: "exportVerlJob options", path: "options" });
  const config = parseWith(VeRLConfig, configInput, { what: "VeRLConfig", path: "config" });
  checkVerlSettings(config);
  const rewards = rewardInput === undefined ? [] : parseRewardSpecs(rewardInput, "rewards");
  rewards.forEach((reward, index) => {
    if (reward.name === "score") {
      throw new InvalidArgumentError(
        'A reward may not be named "score": verl reads the total from that key',
        {
          field: `rewards[${index}].name`,
        },
      );
    }
  });
  const target = resolve(dir);
  const trainRows = toRows(train, "train", job.dataSource, "train");
  const valRows = val === undefined ? undefined : toRows(val, "val", job.dataSource, "val");
  const shape = {
    model: job.model,
    nodes: job.nodes,
    gpusPerNode: job.gpusPerNode,
    trainRows: trainRows.length,
    hasValidation: valRows !== undefined,
    maxPromptLength: job.maxPromptLength,
    rollout: job.rollout,
    tensorParallelSize: job.tensorParallelSize,
    gpuMemoryUtilization: job.gpuMemoryUtilization,
    loggers: job.loggers,
    projectName: job.projectName,
    experimentName: job.experimentName ?? basename(target),
  };
  const overrides = verlOverrides(config, shape);
  const totalSteps = totalTrainingSteps(config, trainRows.length);

  const files = await buildDirectory(target, async (temporary) => {
    const written: VerlJobSummary["files"] = {};
    for (const [name, rows, field] of [
      ["train.parquet", trainRows, "train"],
      ["val.parquet", valRows, "val"],
    ] as const) {
      if (rows === undefined) continue;
      const summary = await writeVerlParquet(join(temporary, name), rows).catch((error: unknown) => {
        // Name the option the bad row came from: `train[3].prompt`, not `rows[3].prompt`.
        if (InvalidArgumentError.isInstance(error) && error.field.startsWith("rows")) {
          throw new InvalidArgumentError(error.message, {
            field: error.field.replace(/^rows/, field),
            cause: error,
          });
        }
        throw error;
      });
      written[name] = { sha256: summary.sha256, bytes: summary.bytes, rows: summary.rows };
    }
    const texts: Record<string, string> = {
      "reward_fn.py": renderRewardFunction({
        rewardUrl: job.rewardUrl,
        // checkVerlSettings refused "skip" above: a verl reward function always returns a score.
        onRewardError: config.onRewardError === "zero" ? "zero" : "throw",
        timeoutSeconds: job.rewardTimeoutSeconds,
        rewardNames: rewards.map((reward) => reward.name),
      }),
      "run_verl.sh": renderRunScript(overrides),
      "README.md": renderJobReadme({
        model: job.model,
        nodes: job.nodes,
        gpusPerNode: job.gpusPerNode,
        trainRows: trainRows.length,
        valRows: valRows?.length,
        totalSteps,
        rewardUrl: job.rewardUrl,
        rewards: rewards.map(({ name, weight }) => ({ name, weight })),
        config,
        rollout: job.rollout,
      }),
    };
    for (const [name, text] of Object.entries(texts)) {
      const path = join(temporary, name);
      await writeAtomically(path, async (file) => file.write(text));
      const bytes = await readFile(path);
      written[name] = {
        sha256: createHash("sha256").update(bytes).digest("hex"),
        bytes: bytes.length,
        rows: countLines(text),
      };
    }
    await chmod(join(temporary, "run_verl.sh"), 0o755);
    const manifest = {
      schemaVersion: MANIFEST_SCHEMA_VERSION,
      generator: "@orbiter/handoff",
      verl: VERL_VERSION,
      model: job.model,
      nodes: job.nodes,
      gpusPerNode: job.gpusPerNode,
      totalSteps,
      rewardUrl: job.rewardUrl ?? null,
      rewards: rewards.map(({ name, weight }) => ({ name, weight })),
      files: written,
      config: { source: configInput, resolved: config },
      job: { ...job, experimentName: shape.experimentName },
      overrides: overrides.map(({ key, value, from }) => ({ key, value, from })),
    };
    const manifestText = `${JSON.stringify(manifest, null, 2)}\n`;
    await writeAtomically(join(temporary, "manifest.json"), async (file) => file.write(manifestText));
    return written;
  });
  return { dir: target, files, totalSteps, command: `bash ${join(target, "run_verl.sh")}` };
}
