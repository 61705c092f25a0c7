import * as tf from "@tensorflow/tfjs";

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
