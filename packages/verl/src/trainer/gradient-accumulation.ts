import * as tf from "@tensorflow/tfjs";
import type { Policy } from "../model/policy.js";
import { gradientVariables } from "./critic-warm-up.js";
import {
  type MicroBatchSettings,
  type MicroBatchTensors,
  type MicroBatchWeights,
  microBatchGradients,
} from "./micro-batch-loss.js";

/** Gradients by variable name and a metric vector, summed over micro-batches (the caller owns the tensors). */
export interface GradientSum {
  /** Summed gradients by tfjs variable name. */
  grads: tf.NamedTensorMap;
  /** Summed metric vector. */
  metrics: tf.Tensor1D;
}

/**
 * Adds `part` into `sum` (null for the first part) and returns the new sum; both inputs are consumed (their
 * tensors are freed or taken over). The order of additions is the order of the calls, so a fixed order of parts
 * gives bit-identical sums.
 */
export function accumulateGradients(sum: GradientSum | null, part: GradientSum): GradientSum {
  if (sum === null) return part;
  const spent: tf.Tensor[] = [sum.metrics, part.metrics];
  const grads: tf.NamedTensorMap = { ...sum.grads };
  for (const [name, gradient] of Object.entries(part.grads)) {
    const previous = grads[name];
    if (previous === undefined) {
      grads[name] = gradient;
    } else {
      grads[name] = tf.add(previous, gradient);
      spent.push(previous, gradient);
    }
  }
  const metrics = tf.add(sum.metrics, part.metrics) as tf.Tensor1D;
  tf.dispose(spent);
  return { grads, metrics };
}

/** Frees every tensor of a (partial) sum. */
export function disposeGradients(sum: GradientSum | null): void {
  if (sum !== null) tf.dispose([...Object.values(sum.grads), sum.metrics]);
}

/**
 * The gradient sum of one thread's micro-batches, added in plan order: for each plan, `rowsOf(plan)` gives its
 * rows [B_micro, T], {@link microBatchGradients} their weighted gradients with respect to the policy's trainable
 * variables (the critic's alone with `criticOnly`), and `release(rows)` frees the rows. On a failure the partial
 * sum is freed before the error is re-thrown. The main thread gathers rows from the batch's tensors, a worker
 * builds them from its host copy; the loop is this one.
 *
 * @returns the sum (the caller owns its tensors), or null when there were no plans
 */
export function sumMicroBatchGradients<P extends { weights: MicroBatchWeights }>(
  policy: Policy,
  plans: ReadonlyArray<P>,
  settings: MicroBatchSettings & { criticOnly?: boolean | undefined },
  rowsOf: (plan: P) => MicroBatchTensors,
  release: (rows: MicroBatchTensors) => void,
): GradientSum | null {
  const variables = gradientVariables(policy, settings.criticOnly);
  const { config, klCoef, responseStart } = settings;
  let sum: GradientSum | null = null;
  try {
    for (const plan of plans) {
      const rows = rowsOf(plan);
      try {
        const part = microBatchGradients(
          policy,
          variables,
          rows,
          { config, klCoef, responseStart },
          plan.weights,
        );
        sum = accumulateGradients(sum, part);
      } finally {
        release(rows);
      }
    }
  } catch (error) {
    disposeGradients(sum);
    throw error;
  }
  return sum;
}
