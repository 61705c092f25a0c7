// Where the time of one reference-workload step goes, kernel by kernel: runs the GRPO or PPO update (or the
// rollout) a few times under tf.profile and prints, per kernel name, the calls, the milliseconds and their share.
// Usage: pnpm --filter @orbiter/verl exec tsx --conditions=@orbiter/source bench/profile-step.ts
// [grpo|ppo|rollout|ppo-rollout] (rollout: GRPO's 8 prompts × 8 samples; ppo-rollout: PPO's 64 prompts with values)
import * as tf from "@tensorflow/tfjs";
import { AdamOptimizer, buildRolloutBatch, initBackend, runPolicyUpdate, scoreRewards } from "./imports.js";
import { randomTokenRows, referencePolicy } from "./reference-policy.js";
import { grpoConfig, ppoConfig } from "./rl-step-workloads.js";

const what = process.argv[2] ?? "grpo";
const repeats = 3;
await initBackend({ backend: "wasm" });

const ppo = what === "ppo" || what === "ppo-rollout";
const rolloutOnly = what === "rollout" || what === "ppo-rollout";
const config = ppo ? ppoConfig : grpoConfig;
const policy = referencePolicy({ valueHead: ppo });
const reference = policy.clone({ frozen: true });
const optimizer = new AdamOptimizer(policy.parameters(), { learningRate: 1e-4 });
const prompts = randomTokenRows(config.batchSize, 16, 5);
const rewards = [{ name: "r", weight: 1, fn: (output: string) => output.length / 32 }];

interface Row {
  calls: number;
  ms: number;
}
const byKernel = new Map<string, Row>();
let total = 0;
let wall = 0;
for (let step = 0; step < repeats + 1; step++) {
  const generate = () =>
    policy.generate(prompts, {
      maxNewTokens: 32,
      n: config.groupSize,
      temperature: 1,
      seed: step,
      stopAtEos: false,
      withValues: ppo,
    });
  const generation = await generate();
  const started = performance.now();
  const profile = await tf.profile(async () => {
    if (rolloutOnly) {
      await generate();
      return;
    }
    const scores = await scoreRewards(
      rewards,
      generation.texts.map((output) => ({ output, sample: { id: "", input: "", output: "", metadata: {} } })),
    );
    const { batch } = buildRolloutBatch({
      config,
      policy,
      reference,
      generation,
      scores: scores.totals,
      scoresAreAdvantages: false,
      klCoef: config.klCoef,
    });
    try {
      await runPolicyUpdate({
        config,
        policy,
        batch,
        klCoef: config.klCoef,
        learningRate: 1e-4,
        optimizer,
        seed: step,
      });
    } finally {
      batch.dispose();
    }
  });
  if (step === 0) continue;
  wall += performance.now() - started;
  for (const kernel of profile.kernels) {
    // Composite ops and custom-gradient scopes are listed too, around the kernels they run: count kernels only.
    if (tf.getKernel(kernel.name, "wasm") === undefined) continue;
    const ms = kernel.kernelTimeMs as number;
    const key = process.env.BY_SHAPE
      ? `${kernel.name} ${kernel.inputShapes.map((s) => `[${s}]`).join(" ")}`
      : kernel.name;
    const row = byKernel.get(key) ?? { calls: 0, ms: 0 };
    row.calls++;
    row.ms += ms;
    byKernel.set(key, row);
    total += ms;
  }
}
const rows = [...byKernel.entries()].sort((a, b) => b[1].ms - a[1].ms);
process.stdout.write(
  `# ${what}: ${(total / repeats).toFixed(1)} ms in kernels per step, ${(wall / repeats).toFixed(1)} ms wall under the profiler, ${rows.reduce((s, [, r]) => s + r.calls, 0) / repeats} kernel calls per step\n`,
);
for (const [name, row] of rows.slice(0, Number(process.env.TOP ?? 40))) {
  process.stdout.write(
    `${name.padEnd(60)} ${String(row.calls / repeats).padStart(6)} calls ${(row.ms / repeats).toFixed(2).padStart(9)} ms ${((100 * row.ms) / total).toFixed(1).padStart(5)}%\n`,
  );
}
optimizer.dispose();
reference.dispose();
policy.dispose();
