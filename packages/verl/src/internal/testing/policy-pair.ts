import { TransformerPolicy } from "../../model/transformer-policy.js";
import type { Tokenizer } from "../../tokenizer/tokenizer.js";

/**
 * A small value-headed policy and its frozen reference, with the policy's weights moved a little away from the
 * reference (scaled by 1.05, plus a small ripple) so that importance ratios and the KL term are not trivial.
 */
export function movedPolicyPair(tokenizer: Tokenizer): {
  policy: TransformerPolicy;
  reference: TransformerPolicy;
} {
  const policy = new TransformerPolicy({
    tokenizer,
    config: { dModel: 16, nHeads: 2, nLayers: 1, dMlp: 32, contextLength: 16, valueHead: true },
    seed: 2,
  });
  const reference = policy.clone({ frozen: true });
  const weights = policy.getWeights();
  for (const tensor of weights.values()) {
    for (let i = 0; i < tensor.data.length; i++)
      tensor.data[i] = (tensor.data[i] as number) * 1.05 + 0.001 * Math.sin(i);
  }
  policy.setWeights(weights);
  return { policy, reference };
}
