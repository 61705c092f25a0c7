import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { InvalidArgumentError } from "@orbiter/types";
import { VeRLConfig, type VeRLConfigInput } from "@orbiter/verl";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readVerlParquet } from "../io/verl-parquet.js";
import { exportVerlJob } from "./export-verl-job.js";
import { classifySetting } from "./verl-settings.js";
import { VERL_CONFIG_KEYS, VERL_VERSION } from "./verl-version.js";

const run = promisify(execFile);

const samples = Array.from({ length: 20 }, (_, i) => ({
  id: `s${i}`,
  input: `${i}+${i}= «ü»`,
  output: String(2 * i),
  metadata: {},
}));
const grpo: VeRLConfigInput = {
  algorithm: "grpo",
  epochs: 2,
  batchSize: 8,
  groupSize: 4,
  miniBatchSize: 16,
  microBatchSize: 2,
  learningRate: 2e-6,
  clipRangeLow: 0.2,
  clipRangeHigh: 0.28,
  klCoef: 0.001,
  entropyCoef: 0.01,
  lossAggregation: "seq-mean-token-sum-norm",
  maxNewTokens: 256,
  temperature: 0.9,
  topK: 0,
  topP: 0.95,
  lrSchedule: "cosine",
  warmupSteps: 2,
  minLearningRate: 2e-7,
  seed: 7,
  backend: "wasm",
  model: { dModel: 16 },
};
const rewards = [
  {
    name: "exact",
    weight: 1,
    fn: (output: string, sample: { output: string }) => (output === sample.output ? 1 : 0),
  },
];

let root = "";
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "handoff-job-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** The overrides `run_verl.sh` hands to verl, as verl's argv sees them, via a stand-in for python3. */
async function verlArguments(dir: string): Promise<string[]> {
  const fake = join(root, "fake-python");
  await writeFile(
    fake,
    '#!/usr/bin/env bash\nif [ "$1" = "-" ]; then cat >/dev/null; exit 0; fi\nshift 2\nprintf "%s\\n" "$@"\n',
  );
  await chmod(fake, 0o755);
  const { stdout } = await run("bash", [join(dir, "run_verl.sh"), "trainer.val_only=false"], {
    env: { PATH: process.env.PATH ?? "", PYTHON: fake },
  });
  return stdout.trimEnd().split("\n");
}

function overridesOf(argv: ReadonlyArray<string>): Map<string, string> {
  return new Map(argv.map((arg) => [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]));
}

describe("exportVerlJob", () => {
  it("pins verl 0.7.0's PPO trainer keys, the ones the mapping relies on among them", () => {
    expect(VERL_VERSION).toEqual({
      version: "0.7.0",
      tag: "v0.7.0",
      commit: "f9c855f7cf04d603c9546bc01776c74806a879c1",
    });
    for (const key of [
      "actor_rollout_ref.actor.clip_ratio_low",
      "actor_rollout_ref.actor.clip_ratio_high",
      "actor_rollout_ref.actor.clip_ratio_c",
      "actor_rollout_ref.actor.loss_agg_mode",
      "actor_rollout_ref.actor.use_kl_loss",
      "actor_rollout_ref.actor.kl_loss_type",
      "algorithm.use_kl_in_reward",
      "algorithm.kl_ctrl.kl_coef",
      "data.train_files",
      "custom_reward_function.path",
      "custom_reward_function.name",
      "trainer.nnodes",
      "trainer.n_gpus_per_node",
    ]) {
      expect(VERL_CONFIG_KEYS.has(key), key).toBe(true);
    }
    expect(VERL_CONFIG_KEYS.has("actor_rollout_ref.actor.vf_coef")).toBe(false);
  });

  it("classifies every VeRLConfig field: mapped, local to this machine, or neutral-only", () => {
    const fields = Object.keys(VeRLConfig.in.shape);
    expect(fields.length).toBeGreaterThan(40);
    expect(
      fields.filter((field) => classifySetting(field) === "unknown"),
      "a new VeRLConfig field needs a verl mapping in packages/handoff/src/job/verl-settings.ts (mapped, local or neutral)",
    ).toEqual([]);
  });

  it("writes a GRPO job whose run_verl.sh passes verl the mapped settings, only with keys of the pinned config", async () => {
    const dir = join(root, "grpo job");
    const val = samples.slice(0, 4);
    const job = await exportVerlJob(dir, {
      train: samples,
      val,
      config: grpo,
      rewards,
      model: "Qwen/Qwen2.5-0.5B-Instruct",
      gpusPerNode: 4,
      rewardUrl: "http://10.0.0.5:8700",
    });
    expect(job.totalSteps).toBe(4); // ⌊20 / 8⌋ × 2 epochs
    expect((await readdir(dir)).sort()).toEqual([
      "README.md",
      "manifest.json",
      "reward_fn.py",
      "run_verl.sh",
      "train.parquet",
      "val.parquet",
    ]);
    // the job folder has a space: the script refuses to run from there, since Hydra would split the paths
    await expect(verlArguments(dir)).rejects.toMatchObject({ code: 2 });
    const movable = join(root, "grpo_job");
    await import("node:fs/promises").then((fs) => fs.rename(dir, movable));
    const argv = await verlArguments(movable);
    expect(argv.at(-1)).toBe("trainer.val_only=false");
    const overrides = overridesOf(argv.slice(0, -1));
    for (const key of overrides.keys()) expect(VERL_CONFIG_KEYS.has(key), key).toBe(true);
    expect(Object.fromEntries(overrides)).toMatchObject({
      "algorithm.adv_estimator": "grpo",
      "algorithm.use_kl_in_reward": "false",
      "actor_rollout_ref.actor.use_kl_loss": "true",
      "actor_rollout_ref.actor.kl_loss_coef": "0.001",
      "actor_rollout_ref.actor.kl_loss_type": "low_var_kl",
      "actor_rollout_ref.actor.clip_ratio_low": "0.2",
      "actor_rollout_ref.actor.clip_ratio_high": "0.28",
      "actor_rollout_ref.actor.clip_ratio_c": "3",
      "actor_rollout_ref.actor.loss_agg_mode": "seq-mean-token-sum-norm",
      "actor_rollout_ref.actor.entropy_coeff": "0.01",
      "actor_rollout_ref.actor.ppo_epochs": "1",
      "actor_rollout_ref.actor.ppo_mini_batch_size": "4", // 16 responses = 4 prompts × 4
      "actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu": "2",
      "actor_rollout_ref.actor.optim.lr": "0.000002",
      "actor_rollout_ref.actor.optim.lr_scheduler_type": "cosine",
      "actor_rollout_ref.actor.optim.lr_warmup_steps": "2",
      "actor_rollout_ref.actor.optim.min_lr_ratio": "0.1",
      "actor_rollout_ref.rollout.n": "4",
      "actor_rollout_ref.rollout.temperature": "0.9",
      "actor_rollout_ref.rollout.top_k": "-1",
      "actor_rollout_ref.rollout.top_p": "0.95",
      "actor_rollout_ref.rollout.name": "vllm",
      "actor_rollout_ref.model.path": "Qwen/Qwen2.5-0.5B-Instruct",
      "data.train_batch_size": "8",
      "data.max_response_length": "256",
      "data.seed": "7",
      "data.train_files": join(movable, "train.parquet"),
      "data.val_files": join(movable, "val.parquet"),
      "custom_reward_function.path": join(movable, "reward_fn.py"),
      "custom_reward_function.name": "compute_score",
      "trainer.total_epochs": "2",
      "trainer.test_freq": "4",
      "trainer.n_gpus_per_node": "4",
      "trainer.nnodes": "1",
      "trainer.logger": "[console]",
      "trainer.experiment_name": "'grpo job'",
    });
    expect([...overrides.keys()].some((key) => key.startsWith("critic."))).toBe(false);
    const manifest = JSON.parse(await readFile(join(movable, "manifest.json"), "utf8"));
    expect(manifest.verl).toEqual(VERL_VERSION);
    expect(manifest.schemaVersion).toBe(1);
    expect(manifest.config.source).toEqual(grpo);
    for (const [name, entry] of Object.entries(
      manifest.files as Record<string, { sha256: string; rows: number; bytes: number }>,
    )) {
      const bytes = await readFile(join(movable, name));
      expect(entry.sha256, name).toBe(createHash("sha256").update(bytes).digest("hex"));
      expect(entry.bytes).toBe(bytes.length);
    }
    expect(manifest.files["train.parquet"].rows).toBe(20);
    expect(manifest.files["val.parquet"].rows).toBe(4);
    const train = await readVerlParquet(join(movable, "train.parquet"));
    expect(train[3]).toMatchObject({
      prompt: [{ role: "user", content: "3+3= «ü»" }],
      reward_model: { ground_truth: "6" },
    });
    expect((await stat(join(movable, "run_verl.sh"))).mode & 0o111).not.toBe(0);
  });

  it("maps PPO to a critic, the KL penalty into the reward, and an adaptive controller", async () => {
    const dir = join(root, "ppo");
    await exportVerlJob(dir, {
      train: samples,
      config: {
        algorithm: "ppo",
        batchSize: 4,
        klCoef: 0.02,
        adaptiveKl: { target: 0.05 },
        valueClip: 0.3,
        criticWarmupSteps: 3,
        gamma: 0.99,
        lambda: 0.9,
      },
      model: "/models/tiny",
      gpusPerNode: 2,
    });
    const overrides = overridesOf(await verlArguments(dir));
    for (const key of overrides.keys()) expect(VERL_CONFIG_KEYS.has(key), key).toBe(true);
    expect(Object.fromEntries(overrides)).toMatchObject({
      "algorithm.adv_estimator": "gae",
      "algorithm.use_kl_in_reward": "true",
      "algorithm.kl_penalty": "kl",
      "algorithm.kl_ctrl.type": "adaptive",
      "algorithm.kl_ctrl.kl_coef": "0.02",
      "algorithm.kl_ctrl.target_kl": "0.05",
      "algorithm.kl_ctrl.horizon": "10000",
      "algorithm.gamma": "0.99",
      "algorithm.lam": "0.9",
      "actor_rollout_ref.actor.use_kl_loss": "false",
      "critic.model.path": "/models/tiny",
      "critic.cliprange_value": "0.3",
      "critic.optim.lr": "0.0001",
      "trainer.critic_warmup": "3",
      "data.val_files": join(dir, "train.parquet"),
      "trainer.test_freq": "-1",
    });
    // One small job per config, exported at `at` (the same samples, model and GPUs as every job below).
    const exportAt = async (at: string, config: VeRLConfigInput) => {
      await exportVerlJob(at, { train: samples, config, model: "/models/tiny", gpusPerNode: 2 });
      return at;
    };
    // The default critic, "auto", is detached on a given model, as every verl job's is: the same job as "detached".
    const exportPpo = (critic: "detached" | "auto") =>
      exportAt(join(root, critic, "ppo"), { algorithm: "ppo", batchSize: 4, critic });
    const detachedDir = await exportPpo("detached");
    const autoDir = await exportPpo("auto");
    const pathFree = async (at: string) =>
      [...overridesOf(await verlArguments(at))].filter(([, value]) => !value.includes(at));
    expect(await pathFree(autoDir)).toEqual(await pathFree(detachedDir));
    expect((await pathFree(autoDir)).some(([key]) => key === "critic.model.path")).toBe(true);
    // verl's actor starts a fresh optimiser, where "auto" advantage scaling divides by the group std; Dr. GRPO maps.
    const normalized = new Map<unknown, string | undefined>();
    for (const setting of ["auto", true, false] as const) {
      const at = await exportAt(join(root, "scale", String(setting)), {
        algorithm: "grpo",
        batchSize: 4,
        groupSize: 2,
        normalizeAdvantageStd: setting,
      });
      normalized.set(setting, overridesOf(await verlArguments(at)).get("algorithm.norm_adv_by_std_in_grpo"));
    }
    expect([...normalized.values()]).toEqual(["true", "true", "false"]);
    // Only GAE reads whitenAdvantages: on GRPO's estimator either value is the job verl runs.
    const unwhitened = await exportAt(join(root, "unwhitened", "auto"), {
      algorithm: "grpo",
      batchSize: 4,
      groupSize: 2,
      whitenAdvantages: false,
    });
    expect(await pathFree(unwhitened)).toEqual(await pathFree(join(root, "scale", "auto")));
  });

  it("refuses settings verl lacks, naming the field, and leaves nothing behind", async () => {
    const cases: Array<[VeRLConfigInput, string]> = [
      [
        { algorithm: "grpo", batchSize: 4, groupSize: 2, overlongPenalty: { bufferLength: 4 } },
        "config.overlongPenalty",
      ],
      [{ algorithm: "grpo", batchSize: 4, groupSize: 2, maskTruncated: true }, "config.maskTruncated"],
      [
        { algorithm: "grpo", batchSize: 4, groupSize: 2, filterZeroStdGroups: true },
        "config.filterZeroStdGroups",
      ],
      [
        { algorithm: "grpo", batchSize: 4, groupSize: 2, rewardCombination: "normalize-then-sum" },
        "config.rewardCombination",
      ],
      [{ algorithm: "grpo", batchSize: 4, groupSize: 2, advantageEpsilon: 1e-4 }, "config.advantageEpsilon"],
      [{ algorithm: "grpo", batchSize: 4, groupSize: 2, onRewardError: "skip" }, "config.onRewardError"],
      [{ algorithm: "grpo", batchSize: 4, groupSize: 2, dualClip: null }, "config.dualClip"],
      [{ algorithm: "ppo", batchSize: 4, valueClip: null }, "config.valueClip"],
      [{ algorithm: "ppo", batchSize: 4, critic: "shared" }, "config.critic"],
      [{ algorithm: "ppo", batchSize: 4, desiredKl: 0.001 }, "config.desiredKl"],
      [{ algorithm: "ppo", batchSize: 4, whitenAdvantages: false }, "config.whitenAdvantages"],
      [{ algorithm: "grpo", batchSize: 4, groupSize: 2, adamEpsilon: 1e-3 }, "config.adamEpsilon"],
      [{ algorithm: "grpo", batchSize: 4, groupSize: 2, adaptiveKl: { target: 0.1 } }, "config.adaptiveKl"],
      [{ algorithm: "grpo", batchSize: 4, groupSize: 4, miniBatchSize: 2 }, "config.miniBatchSize"],
      [{ algorithm: "grpo", batchSize: 32, groupSize: 2 }, "config.batchSize"],
      [{ algorithm: "grpo", batchSize: 4, groupSize: 2, epochs: 0 }, "config.epochs"],
      [{ algorithm: "grpo", batchSize: 3, groupSize: 1, advantageEstimator: "rloo" }, "gpusPerNode"],
    ];
    for (const [config, field] of cases) {
      const dir = join(root, "refused");
      const error = await exportVerlJob(dir, { train: samples, config, model: "m", gpusPerNode: 2 }).catch(
        (caught: unknown) => caught,
      );
      expect(InvalidArgumentError.isInstance(error), `${field}: ${String(error)}`).toBe(true);
      expect((error as InvalidArgumentError).field).toBe(field);
      expect(await readdir(root)).not.toContain("refused");
      expect((await readdir(root)).filter((name) => name.startsWith(".refused"))).toEqual([]);
    }
    const badRow = await exportVerlJob(join(root, "refused"), {
      train: [
        {
          data_source: "d",
          prompt: [],
          ability: "",
          reward_model: { style: "rule", ground_truth: "x" },
          extra_info: { split: "train", index: 0 },
        },
      ],
      config: { batchSize: 1 },
      model: "m",
      gpusPerNode: 1,
    }).catch((caught: unknown) => caught);
    expect((badRow as InvalidArgumentError).field).toBe("train[0].prompt");
    expect((await readdir(root)).filter((name) => name.includes("refused"))).toEqual([]);
  });

  it("replaces an earlier job, but refuses a file or a folder of other files at its path and deletes nothing", async () => {
    const options = { train: samples.slice(0, 8), config: grpo, model: "m", gpusPerNode: 4 };
    const jobDir = join(root, "again");
    await exportVerlJob(jobDir, options);
    await exportVerlJob(jobDir, { ...options, projectName: "second" });
    expect(await readFile(join(jobDir, "run_verl.sh"), "utf8")).toContain("trainer.project_name=second");

    const results = join(root, "results");
    await mkdir(results);
    await writeFile(join(results, "table.csv"), "a,b\n");
    const notes = join(root, "notes.txt");
    await writeFile(notes, "keep me");
    for (const target of [results, notes]) {
      const error = await exportVerlJob(target, options).catch((caught: unknown) => caught);
      expect(InvalidArgumentError.isInstance(error), String(error)).toBe(true);
      expect((error as InvalidArgumentError).field).toBe("dir");
    }
    expect(await readdir(results)).toEqual(["table.csv"]);
    expect(await readFile(notes, "utf8")).toBe("keep me");
    expect(
      (await readdir(root)).filter((name) => name.startsWith(".results") || name.startsWith(".notes")),
    ).toEqual([]);
  });

  it("names a job folder whose path runs through a file", async () => {
    const blocker = join(root, "blocker.txt");
    await writeFile(blocker, "a file");
    const options = { train: samples.slice(0, 8), config: grpo, model: "m", gpusPerNode: 4 };
    const error = await exportVerlJob(join(blocker, "job"), options).catch((caught: unknown) => caught);
    expect(InvalidArgumentError.isInstance(error), String(error)).toBe(true);
    expect((error as InvalidArgumentError).field).toBe("dir");
    expect((error as InvalidArgumentError).message).toMatch(/a part of the path is a file/);
  });
});
