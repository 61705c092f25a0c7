import { InvalidArgumentError } from "@orbiter/types";
import * as tf from "@tensorflow/tfjs";
import { clipScale, globalNorm } from "./global-norm.js";

/**
 * Scales gradients so their global L2 norm is at most `maxNorm` (as `torch.nn.utils.clip_grad_norm_`):
 * each gradient is multiplied by `min(1, maxNorm / (norm + 1e-6))`. Returns new tensors (the caller disposes
 * them and the inputs) and the norm before clipping, read with one device sync.
 *
 * @example
 * ```ts
 * const { gradients, norm } = clipByGlobalNorm(grads, 1.0);
 * ```
 */
export function clipByGlobalNorm(
  gradients: Readonly<Record<string, tf.Tensor>>,
  maxNorm: number,
): { gradients: Record<string, tf.Tensor>; norm: number } {
  if (!(maxNorm > 0)) {
    throw new InvalidArgumentError("maxNorm must be a positive number", { field: "maxNorm", value: maxNorm });
  }
  const names = Object.keys(gradients);
  const normTensor = globalNorm(names.map((name) => gradients[name]!));
  const norm = normTensor.dataSync()[0]!;
  normTensor.dispose();
  const scale = clipScale(norm, maxNorm);
  const out: Record<string, tf.Tensor> = {};
  for (const name of names) {
    out[name] = scale < 1 ? tf.mul(gradients[name]!, scale) : tf.clone(gradients[name]!);
  }
  return { gradients: out, norm };
}
