// `grpo` and `ppo`: one RL training step each of the reference workload (/work/shared/REFERENCE-WORKLOAD.md),
// built from the same pieces as VeRLTrainer's step: batched KV-cache rollout (no early stop), rewards, the rollout
// batch (reference forward without gradient, advantages), and the mini-batch update (one forward for log-probs,
// entropy and values; clipped surrogate + KL + value loss; backward; global-norm clipping; Adam).
import * as tf from "@tensorflow/tfjs";
import {
  AdamOptimizer,
  type BackendName,
  buildRolloutBatch,
  runPolicyUpdate,
  scoreRewards,
  VeRLConfig,
  type VeRLConfigInput,
} from "./imports.js";
import { randomTokenRows, referencePolicy } from "./reference-policy.js";
import { type Measurement, median, round, timedRuns, WARMUP, type Workload } from "./workload.js";

const PROMPT_TOKENS = 16;
const NEW_TOKENS = 32;
/** Target of one step of either workload on this machine's wasm backend. */
const TARGET_STEP_MS = 750;

const shared: VeRLConfigInput = {
  clipRange: 0.2,
  dualClip: null,
  klCoef: 0.04,
  klEstimator: "k3",
  lossAggregation: "token-mean",
  gradClip: 1,
  learningRate: 1e-4,
  maxNewTokens: NEW_TOKENS,
  temperature: 1,
  ppoEpochs: 1,
};

/** GRPO: 8 prompts × 8 samples, group-normalised reward, k3 KL in the loss, one mini-batch of 64. */
const grpoConfig = VeRLConfig.parse({
  ...shared,
  algorithm: "grpo",
  batchSize: 8,
  groupSize: 8,
  miniBatchSize: 64,
});
/** PPO: 64 prompts × 1 sample, value head, GAE(1, 0.95) with the KL penalty in the reward, 2 mini-batches of 32. */
const ppoConfig = VeRLConfig.parse({
  ...shared,
  algorithm: "ppo",
  batchSize: 64,
  groupSize: 1,
  miniBatchSize: 32,
  klPlacement: "reward",
  gamma: 1,
  lambda: 0.95,
  valueClip: 0.2,
  vfCoef: 0.5,
});

/** Any cheap function of the sampled text: the share of characters from the first half of the alphabet. */
const rewards = [
  {
    name: "low-half",
    weight: 1,
    fn: (output: string) => [...output].filter((c) => c < "P").length / NEW_TOKENS,
  },
];
const noSample = { id: "bench", input: "", output: "", metadata: {} };

/** Milliseconds of CPU (user + system) the process used between two `process.cpuUsage()` readings. */
function cpuMs(from: NodeJS.CpuUsage, to: NodeJS.CpuUsage): number {
  return (to.user - from.user + to.system - from.system) / 1000;
}

async function measure(
  name: "grpo" | "ppo",
  config: VeRLConfig,
  backend: BackendName,
): Promise<Measurement[]> {
  const policy = referencePolicy({ valueHead: name === "ppo" });
  const reference = policy.clone({ frozen: true });
  const optimizer = new AdamOptimizer(policy.parameters(), { learningRate: config.learningRate });
  const prompts = randomTokenRows(config.batchSize, PROMPT_TOKENS, 5);
  const rollout: number[] = [];
  const update: number[] = [];
  const rolloutCpu: number[] = [];
  const updateCpu: number[] = [];
  const timed = timedRuns(backend);
  let before = 0;
  let after = 0;
  try {
    for (let step = 0; step < WARMUP + timed; step++) {
      if (step === WARMUP) before = tf.memory().numTensors;
      const started = performance.now();
      const cpuStarted = process.cpuUsage();
      const generation = await policy.generate(prompts, {
        maxNewTokens: NEW_TOKENS,
        n: config.groupSize,
        temperature: 1,
        seed: step,
        stopAtEos: false,
        withValues: name === "ppo",
      });
      const sampled = performance.now();
      const cpuSampled = process.cpuUsage();
      const scores = await scoreRewards(
        rewards,
        generation.texts.map((output) => ({ output, sample: noSample })),
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
        const result = await runPolicyUpdate({
          config,
          policy,
          batch,
          klCoef: config.klCoef,
          learningRate: config.learningRate,
          optimizer,
          seed: step,
        });
        if (result.skipped > 0) throw new Error(`${name}: an update had a non-finite loss or gradient`);
      } finally {
        batch.dispose();
      }
      const finished = performance.now();
      const cpuFinished = process.cpuUsage();
      if (step >= WARMUP) {
        rollout.push(sampled - started);
        update.push(finished - sampled);
        rolloutCpu.push(cpuMs(cpuStarted, cpuSampled));
        updateCpu.push(cpuMs(cpuSampled, cpuFinished));
      }
    }
    after = tf.memory().numTensors;
  } finally {
    optimizer.dispose();
    reference.dispose();
    policy.dispose();
  }
  const leaked = after - before;
  const rolloutMs = median(rollout);
  const stepMs = median(rollout.map((ms, i) => ms + (update[i] as number)));
  const tokens = config.batchSize * config.groupSize * NEW_TOKENS;
  return [
    {
      workload: name,
      backend,
      rollout_ms: round(rolloutMs),
      update_ms: round(median(update)),
      step_ms: round(stepMs),
      rollout_tokens_per_s: Math.round(tokens / (rolloutMs / 1000)),
      rollout_cpu_ms: round(median(rolloutCpu)),
      update_cpu_ms: round(median(updateCpu)),
      step_cpu_ms: round(median(rolloutCpu.map((ms, i) => ms + (updateCpu[i] as number)))),
      tensors_leaked: leaked,
      timed_steps: timed,
      // The step-time target is set for the wasm backend only; elsewhere `pass` means no leaked tensors.
      ...(backend === "wasm" ? { target_step_ms: TARGET_STEP_MS } : {}),
      pass: leaked === 0 && (backend !== "wasm" || stepMs <= TARGET_STEP_MS),
    },
  ];
}

/** `grpo`: one GRPO step of the reference workload. */
export const grpoWorkload: Workload = {
  name: "grpo",
  run: (backend) => measure("grpo", grpoConfig, backend),
};

/** `ppo`: one PPO step of the reference workload. */
export const ppoWorkload: Workload = { name: "ppo", run: (backend) => measure("ppo", ppoConfig, backend) };
