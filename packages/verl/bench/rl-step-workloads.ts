// The "grpo" and "ppo" workloads of /work/shared/REFERENCE-WORKLOAD.md (one RL training step each), built from
// the same pieces as VeRLTrainer's step: batched KV-cache rollout, rewards, rollout batch (reference forward,
// advantages), mini-batch update (clipped surrogate + KL + value loss, backward, clipping, Adam).
import * as tf from "@tensorflow/tfjs";
import {
  AdamOptimizer,
  type BackendName,
  buildRolloutBatch,
  CharTokenizer,
  initBackend,
  runPolicyUpdate,
  scoreRewards,
  TransformerPolicy,
  VeRLConfig,
  type VeRLConfigInput,
} from "../src/index.js";

/** One measurement line of the reference workload's output format. */
export interface RlStepMeasurement {
  workload: "grpo" | "ppo";
  backend: BackendName;
  rollout_ms: number;
  update_ms: number;
  step_ms: number;
  rollout_tokens_per_s: number;
  tensors_leaked: number;
  timed_steps: number;
  target_step_ms: number;
  pass: boolean;
}

const PROMPT_TOKENS = 16;
const NEW_TOKENS = 32;
/** Target of this machine's wasm backend for one step of either workload. */
const TARGET_STEP_MS = 750;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** 60 printable characters + 4 specials = the workload's vocabulary of 64. */
const alphabet = Array.from({ length: 60 }, (_, i) => String.fromCharCode(33 + i));
const rewards = [
  // Any cheap function of the text: the share of vowels-like characters in the first half of the alphabet.
  {
    name: "low-half",
    weight: 1,
    fn: (output: string) => [...output].filter((c) => c < "P").length / NEW_TOKENS,
  },
];

/**
 * Runs `warmup + timed` steps of the workload on `backend` and returns the medians over the timed steps.
 *
 * @param workload `grpo` (8 prompts × 8 samples) or `ppo` (64 prompts × 1, value head, GAE, 2 mini-batches)
 */
export async function measureRlStep(
  workload: "grpo" | "ppo",
  backend: BackendName,
  options: { warmup?: number; timed?: number } = {},
): Promise<RlStepMeasurement> {
  const warmup = options.warmup ?? 2;
  const timed = options.timed ?? 5;
  await initBackend({ backend });
  const tokenizer = new CharTokenizer(alphabet);
  const policy = new TransformerPolicy({
    tokenizer,
    config: {
      vocabSize: 64,
      contextLength: 64,
      dModel: 128,
      nHeads: 4,
      nLayers: 2,
      dMlp: 512,
      valueHead: workload === "ppo",
    },
    seed: 1,
    addBos: false,
  });
  const reference = policy.clone({ frozen: true });
  const input: VeRLConfigInput =
    workload === "grpo"
      ? {
          algorithm: "grpo",
          batchSize: 8,
          groupSize: 8,
          ppoEpochs: 1,
          miniBatchSize: 64,
          klCoef: 0.04,
          klEstimator: "k3",
        }
      : {
          algorithm: "ppo",
          batchSize: 64,
          groupSize: 1,
          ppoEpochs: 1,
          miniBatchSize: 32,
          klCoef: 0.04,
          klEstimator: "k3",
          klPlacement: "reward",
          gamma: 1,
          lambda: 0.95,
          valueClip: 0.2,
          vfCoef: 0.5,
        };
  const config = VeRLConfig.parse({
    ...input,
    clipRange: 0.2,
    dualClip: null,
    lossAggregation: "token-mean",
    gradClip: 1,
    learningRate: 1e-4,
    maxNewTokens: NEW_TOKENS,
    temperature: 1,
  });
  const prompts = Array.from({ length: config.batchSize }, (_, p) =>
    Array.from({ length: PROMPT_TOKENS }, (_, t) => 4 + ((p * 7 + t * 3) % 60)),
  );
  const optimizer = new AdamOptimizer(policy.parameters(), { learningRate: config.learningRate });
  const rollout: number[] = [];
  const update: number[] = [];
  let before = 0;
  for (let step = 0; step < warmup + timed; step++) {
    if (step === warmup) before = tf.memory().numTensors;
    const started = performance.now();
    const generation = await policy.generate(prompts, {
      maxNewTokens: NEW_TOKENS,
      n: config.groupSize,
      temperature: 1,
      seed: step,
      stopAtEos: false,
    });
    const sampled = performance.now();
    const scores = await scoreRewards(
      rewards,
      generation.texts.map((output) => ({
        output,
        sample: { id: "b", input: "", output: "", metadata: {} },
      })),
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
      runPolicyUpdate({
        config,
        policy,
        batch,
        klCoef: config.klCoef,
        learningRate: config.learningRate,
        optimizer,
        seed: step,
      });
    } finally {
      batch.dispose();
    }
    const finished = performance.now();
    if (step >= warmup) {
      rollout.push(sampled - started);
      update.push(finished - sampled);
    }
  }
  const leaked = tf.memory().numTensors - before;
  optimizer.dispose();
  reference.dispose();
  policy.dispose();
  const steps = rollout.map((r, i) => r + (update[i] as number));
  const rolloutMs = median(rollout);
  const stepMs = median(steps);
  const tokens = config.batchSize * config.groupSize * NEW_TOKENS;
  return {
    workload,
    backend,
    rollout_ms: Math.round(rolloutMs * 10) / 10,
    update_ms: Math.round(median(update) * 10) / 10,
    step_ms: Math.round(stepMs * 10) / 10,
    rollout_tokens_per_s: Math.round(tokens / (rolloutMs / 1000)),
    tensors_leaked: leaked,
    timed_steps: timed,
    target_step_ms: TARGET_STEP_MS,
    pass: leaked === 0 && (backend !== "wasm" || stepMs <= TARGET_STEP_MS),
  };
}
