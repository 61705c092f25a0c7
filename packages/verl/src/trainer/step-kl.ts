import * as tf from "@tensorflow/tfjs";
import type { Policy } from "../model/policy.js";
import type { RolloutBatch } from "./rollout-batch.js";

/**
 * How far one training step moved the policy, measured on the step's own rollout: the mean over its loss tokens of
 * the k3 estimate of KL(π_old ‖ π_new) (Schulman, "Approximating KL divergence"; SB3's `approx_kl`), with
 * `log r = log π_new − log π_old` clamped to ±20 as the policy loss clamps it, `k3 = e^{log r} − 1 − log r`. The
 * tokens were sampled from π_old, so the estimate is unbiased and never negative. One forward pass (no gradient)
 * over the rows, in chunks of `chunkRows`, and one device→host read; 0 when the batch has no loss token.
 *
 * @param policy the policy after the step
 * @param batch the step's rollout (its `oldLogProbs` are π_old)
 * @param temperature the sampling temperature the log-probabilities are taken at
 * @param chunkRows rows per forward pass (bounds memory like `microBatchSize`)
 */
export function measureStepKl(
  policy: Policy,
  batch: RolloutBatch,
  temperature: number,
  chunkRows: number,
): number {
  const chunk = Math.max(1, Math.min(chunkRows, batch.size));
  let totals: tf.Tensor1D = tf.zeros([2]);
  for (let start = 0; start < batch.size; start += chunk) {
    const next = tf.tidy(() => {
      const whole = start === 0 && chunk === batch.size;
      const index = whole ? null : tf.range(start, Math.min(start + chunk, batch.size), 1, "int32");
      const pick = <T extends tf.Tensor>(tensor: T): T =>
        index === null ? tensor : (tf.gather(tensor, index) as T);
      const mask = pick(batch.responseMask);
      const logProbs = policy.logProbs({
        tokens: pick(batch.tokens),
        attentionMask: pick(batch.attentionMask),
        responseStart: batch.responseStart,
        temperature,
      }).logProbs;
      const logRatio = tf.clipByValue(tf.sub(logProbs, pick(batch.oldLogProbs)), -20, 20);
      const k3 = tf.sub(tf.sub(tf.exp(logRatio), 1), logRatio);
      return tf.add(totals, tf.stack([tf.sum(tf.mul(k3, mask)), tf.sum(mask)])) as tf.Tensor1D;
    });
    totals.dispose();
    totals = next;
  }
  const [sum, count] = Array.from(totals.dataSync());
  totals.dispose();
  // k3 ≥ 0 per token; float32 rounding of e^x − 1 − x can leave a sum a hair below 0.
  return (count as number) > 0 ? Math.max(0, (sum as number) / (count as number)) : 0;
}
