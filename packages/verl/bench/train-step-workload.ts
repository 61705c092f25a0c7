import * as tf from "@tensorflow/tfjs";
import { AdamOptimizer, type BackendName, clipByGlobalNorm } from "./imports.js";
import { randomTokenRows, referencePolicy } from "./reference-policy.js";
import { type Measurement, median, round, timeRuns, type Workload } from "./workload.js";

const ROWS = 64;
const LENGTH = 48;
/** Target on the wasm backend of this machine. */
const TARGET_STEP_MS = 400;

/**
 * `train_step`: one policy forward + backward + Adam step on 64 × 48 tokens — the mean next-token
 * log-likelihood of all 47 predicted positions, global-norm clipping at 1.0, Adam at 1e-4 — ending with the
 * loss read on the host.
 */
export const trainStepWorkload: Workload = {
  name: "train_step",
  async run(backend: BackendName): Promise<Measurement[]> {
    const policy = referencePolicy();
    const optimizer = new AdamOptimizer(policy.parameters(), { learningRate: 1e-4 });
    const tokens = tf.tensor2d(randomTokenRows(ROWS, LENGTH, 11), undefined, "int32");
    const { times, cpuTimes, leaked, timed } = await timeRuns(backend, () => {
      const loss = tf.tidy(() => {
        const { value, grads } = tf.variableGrads(
          () => tf.neg(tf.mean(policy.logProbs({ tokens, responseStart: 1 }).logProbs)) as tf.Scalar,
          policy.trainableVariables(),
        );
        const { gradients } = clipByGlobalNorm(grads, 1.0);
        optimizer.applyGradients(gradients);
        return value;
      });
      const lossValue = loss.dataSync()[0]!;
      loss.dispose();
      if (!Number.isFinite(lossValue)) throw new Error("The training step produced a non-finite loss");
    }).finally(() => {
      tokens.dispose();
      optimizer.dispose();
      policy.dispose();
    });
    const ms = median(times);
    const target = backend === "wasm" ? TARGET_STEP_MS : undefined;
    return [
      {
        workload: "train_step",
        backend,
        step_ms: round(ms),
        step_cpu_ms: round(median(cpuTimes)),
        tensors_leaked: leaked,
        timed_runs: timed,
        ...(target === undefined ? {} : { target_step_ms: target }),
        pass: leaked === 0 && (target === undefined || ms <= target),
      },
    ];
  },
};
