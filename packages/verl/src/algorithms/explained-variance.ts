import * as tf from "@tensorflow/tfjs";
import { maskedVariance } from "./masked-statistics.js";

/**
 * `critic/vf_explained_var` = 1 − Var(R − V) / (Var(R) + 1e-5) over the valid tokens, with unbiased variances as
 * verl. 1 is a perfect critic, 0 no better than a constant, negative is worse than a constant.
 *
 * @param returns `[B, T]` GAE returns
 * @param values `[B, T]` value predictions
 * @param mask `[B, T]` 1 on valid tokens
 */
export function explainedVariance(returns: tf.Tensor, values: tf.Tensor, mask: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const residual = maskedVariance(tf.sub(returns, values), mask);
    return tf.sub(1, tf.div(residual, tf.add(maskedVariance(returns, mask), 1e-5))) as tf.Scalar;
  });
}
