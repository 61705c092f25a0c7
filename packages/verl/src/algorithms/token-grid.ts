import { InvalidArgumentError } from "@orbiter/types";
import type * as tf from "@tensorflow/tfjs";

/**
 * The `[B, T]` shape of a token-level `mask`, after checking that it has rank 2 and that every tensor of
 * `alongside` has the same shape. The host loops of the advantage estimators index the read-back arrays by it, so
 * a tensor of another shape would otherwise be read past its end (NaN) instead of refused.
 *
 * @throws {InvalidArgumentError} naming `mask` or the field whose shape differs.
 */
export function tokenGridShape(
  mask: tf.Tensor,
  alongside: Readonly<Record<string, tf.Tensor>>,
): [number, number] {
  if (mask.rank !== 2) {
    throw new InvalidArgumentError(`mask must have rank 2 [B, T], got shape [${mask.shape.join(", ")}]`, {
      field: "mask",
      value: mask.shape,
    });
  }
  const [batch, length] = mask.shape as [number, number];
  for (const [field, tensor] of Object.entries(alongside)) {
    if (tensor.rank !== 2 || tensor.shape[0] !== batch || tensor.shape[1] !== length) {
      throw new InvalidArgumentError(
        `${field} must have the mask's shape [${batch}, ${length}], got [${tensor.shape.join(", ")}]`,
        { field, value: tensor.shape },
      );
    }
  }
  return [batch, length];
}
