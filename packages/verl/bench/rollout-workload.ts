import type { BackendName } from "./imports.js";
import { randomTokenRows, referencePolicy } from "./reference-policy.js";
import { type Measurement, median, round, timeRuns, type Workload } from "./workload.js";

const PROMPTS = 8;
const SAMPLES = 8;
const PROMPT_TOKENS = 16;
const NEW_TOKENS = 32;
/** Target on the wasm backend of this machine. */
const TARGET_TOKENS_PER_S = 10_000;

/**
 * `rollout`: sampling 64 sequences × 32 new tokens (8 prompts of 16 tokens × 8 samples, temperature 1, no
 * top-k/top-p, no early stop) with the KV cache, as one batch.
 */
export const rolloutWorkload: Workload = {
  name: "rollout",
  async run(backend: BackendName): Promise<Measurement[]> {
    const policy = referencePolicy();
    const prompts = randomTokenRows(PROMPTS, PROMPT_TOKENS, 7);
    const { times, cpuTimes, leaked, timed } = await timeRuns(backend, async (i) => {
      const rollout = await policy.generate(prompts, {
        n: SAMPLES,
        maxNewTokens: NEW_TOKENS,
        temperature: 1,
        seed: i,
        stopAtEos: false,
      });
      if (rollout.responseLength !== NEW_TOKENS || rollout.batchSize !== PROMPTS * SAMPLES) {
        throw new Error("The rollout did not sample 64 × 32 tokens");
      }
    }).finally(() => policy.dispose());
    const ms = median(times);
    const tokensPerSecond = (PROMPTS * SAMPLES * NEW_TOKENS) / (ms / 1000);
    const target = backend === "wasm" ? TARGET_TOKENS_PER_S : undefined;
    return [
      {
        workload: "rollout",
        backend,
        rollout_ms: round(ms),
        rollout_tokens_per_s: Math.round(tokensPerSecond),
        rollout_cpu_ms: round(median(cpuTimes)),
        tensors_leaked: leaked,
        timed_runs: timed,
        ...(target === undefined ? {} : { target_tokens_per_s: target }),
        pass: leaked === 0 && (target === undefined || tokensPerSecond >= target),
      },
    ];
  },
};
