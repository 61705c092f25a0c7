// `grpo` and `ppo`: one RL training step each of the reference workload (described in bench/README.md),
// built from the same pieces as VeRLTrainer's step: batched KV-cache rollout (no early stop), rewards, the rollout
// batch (reference forward without gradient, advantages), and the mini-batch update (one forward for log-probs,
// entropy and values; clipped surrogate + KL + value loss; backward; global-norm clipping; Adam).
import { availableParallelism } from "node:os";
import * as tf from "@tensorflow/tfjs";
import {
  AdamOptimizer,
  type BackendName,
  buildRolloutBatch,
  DataParallelGroup,
  runPolicyUpdate,
  scoreRewards,
  VeRLConfig,
  type VeRLConfigInput,
} from "./imports.js";
import { randomTokenRows, referencePolicy } from "./reference-policy.js";
import { findTorchPeer, type PeerFigures, runTorchPeer, type TorchPeer } from "./torch-peer.js";
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
export const grpoConfig = VeRLConfig.parse({
  ...shared,
  algorithm: "grpo",
  batchSize: 8,
  groupSize: 8,
  miniBatchSize: 64,
});
/** PPO: 64 prompts × 1 sample, value head, GAE(1, 0.95) with the KL penalty in the reward, 2 mini-batches of 32. */
export const ppoConfig = VeRLConfig.parse({
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
  workers: number,
): Promise<Measurement> {
  const policy = referencePolicy({ valueHead: name === "ppo" });
  const reference = policy.clone({ frozen: true });
  const optimizer = new AdamOptimizer(policy.parameters(), { learningRate: config.learningRate });
  const prompts = randomTokenRows(config.batchSize, PROMPT_TOKENS, 5);
  const rollout: number[] = [];
  const update: number[] = [];
  const rolloutCpu: number[] = [];
  const updateCpu: number[] = [];
  const timed = timedRuns(backend);
  let before: number[] = [];
  let after: number[] = [];
  let group: DataParallelGroup | null = null;
  try {
    if (workers > 1)
      group = await DataParallelGroup.start({ participants: workers, policy, reference, backend });
    const tensorCounts = async () => [tf.memory().numTensors, ...((await group?.workerTensorCounts()) ?? [])];
    for (let step = 0; step < WARMUP + timed; step++) {
      if (step === WARMUP) before = await tensorCounts();
      const started = performance.now();
      const cpuStarted = process.cpuUsage();
      const generation = await (group ?? policy).generate(prompts, {
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
      const referenceLogProbs = group === null ? undefined : await group.referenceLogProbs(generation, 1);
      const { batch } = buildRolloutBatch({
        config,
        policy,
        reference,
        generation,
        scores: scores.totals,
        scoresAreAdvantages: false,
        klCoef: config.klCoef,
        ...(referenceLogProbs === undefined ? {} : { referenceLogProbs }),
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
          ...(group === null ? {} : { workers: group }),
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
    after = await tensorCounts();
  } finally {
    await group?.dispose();
    optimizer.dispose();
    reference.dispose();
    policy.dispose();
  }
  // Tensors leaked over the timed steps, on this thread and on each worker (all must be 0).
  const leaks = after.map((count, i) => count - (before[i] as number));
  const leaked = leaks.reduce((sum, x) => sum + Math.abs(x), 0);
  const rolloutMs = median(rollout);
  const stepMs = median(rollout.map((ms, i) => ms + (update[i] as number)));
  const tokens = config.batchSize * config.groupSize * NEW_TOKENS;
  return {
    workload: name,
    backend,
    workers,
    rollout_ms: round(rolloutMs),
    update_ms: round(median(update)),
    step_ms: round(stepMs),
    rollout_tokens_per_s: Math.round(tokens / (rolloutMs / 1000)),
    rollout_cpu_ms: round(median(rolloutCpu)),
    update_cpu_ms: round(median(updateCpu)),
    step_cpu_ms: round(median(rolloutCpu.map((ms, i) => ms + (updateCpu[i] as number)))),
    tensors_leaked: leaked,
    ...(group === null ? {} : { worker_startup_ms: round(group.startupMs) }),
    timed_steps: timed,
    // The step-time target is set for the wasm backend only; elsewhere `pass` means no leaked tensors.
    ...(backend === "wasm" ? { target_step_ms: TARGET_STEP_MS } : {}),
    pass: leaked === 0 && (backend !== "wasm" || stepMs <= TARGET_STEP_MS),
  };
}

const ratio = (ours: number, theirs: number) => Math.round((ours / theirs) * 100) / 100;

/** Adds the peer's figures (same thread count) and our/their ratios to one of our lines. */
function withPeer(line: Measurement, peer: PeerFigures): Measurement {
  return {
    ...line,
    peer_threads: peer.threads,
    peer_step_ms: round(peer.step_ms),
    peer_rollout_ms: round(peer.rollout_ms),
    peer_update_ms: round(peer.update_ms),
    peer_rollout_tokens_per_s: Math.round(peer.rollout_tokens_per_s),
    ratio_step: ratio(line.step_ms as number, peer.step_ms),
    ratio_rollout: ratio(line.rollout_ms as number, peer.rollout_ms),
    ratio_update: ratio(line.update_ms as number, peer.update_ms),
  };
}

let peerLookup: Promise<{ peer: TorchPeer | null; reason: string }> | null = null;

/**
 * One workload on 1 worker, then on 2 when the machine has 2 cores (fast backends only); with the PyTorch peer
 * set up, each of ours is followed by the peer on the same number of threads, and the ratios are added.
 */
async function measureAll(
  name: "grpo" | "ppo",
  config: VeRLConfig,
  backend: BackendName,
): Promise<Measurement[]> {
  const counts = backend === "cpu" ? [1] : [...new Set([1, Math.min(2, availableParallelism())])];
  peerLookup ??= findTorchPeer();
  const { peer, reason } = backend === "cpu" ? { peer: null, reason: "" } : await peerLookup;
  if (peer === null && reason !== "") process.stderr.write(`# PyTorch peer skipped: ${reason}\n`);
  const lines: Measurement[] = [];
  for (const workers of counts) {
    process.stderr.write(`# ${name} on ${backend}, ${workers} worker(s)\n`);
    const ours = await measure(name, config, backend, workers);
    if (peer === null) {
      lines.push(ours);
      continue;
    }
    process.stderr.write(`# ${name}: PyTorch peer, ${workers} thread(s)\n`);
    const line = withPeer(ours, await runTorchPeer(peer, name, workers));
    if (workers === 1) {
      // On one thread, CPU time against CPU time as well: both sides' figures barely move with the load.
      const cpu = await runTorchPeer(peer, name, workers, "cpu");
      Object.assign(line, {
        peer_step_cpu_ms: round(cpu.step_ms),
        peer_rollout_cpu_ms: round(cpu.rollout_ms),
        peer_update_cpu_ms: round(cpu.update_ms),
        ratio_step_cpu: ratio(ours.step_cpu_ms as number, cpu.step_ms),
        ratio_rollout_cpu: ratio(ours.rollout_cpu_ms as number, cpu.rollout_ms),
        ratio_update_cpu: ratio(ours.update_cpu_ms as number, cpu.update_ms),
      });
    }
    lines.push(line);
  }
  return lines;
}

/** `grpo`: one GRPO step of the reference workload. */
export const grpoWorkload: Workload = {
  name: "grpo",
  run: (backend) => measureAll("grpo", grpoConfig, backend),
};

/** `ppo`: one PPO step of the reference workload. */
export const ppoWorkload: Workload = { name: "ppo", run: (backend) => measureAll("ppo", ppoConfig, backend) };
