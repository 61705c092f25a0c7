import { deriveSeed, type Sample } from "@orbiter/types";
import { chatTokenizer } from "../chat/chat-template.js";
import type { VeRLConfig } from "../config/verl-config.js";
import { TransformerPolicy } from "../model/transformer-policy.js";
import { CharTokenizer } from "../tokenizer/char-tokenizer.js";
import type { Tokenizer } from "../tokenizer/tokenizer.js";

/** Inputs of {@link buildDefaultPolicy}. */
export interface DefaultPolicyInput {
  config: VeRLConfig;
  /** The training samples (their prompts size the context). */
  samples: ReadonlyArray<Sample>;
  /** Further samples whose characters the tokenizer must know (the evaluation set). */
  extra: ReadonlyArray<Sample>;
  /** The tokenizer to use. @default built from every prompt and reference output */
  tokenizer: Tokenizer | undefined;
  /** Agent mode's context length: a chat tokenizer and this context. @default undefined (plain prompts) */
  agentContextLength: number | undefined;
}

/**
 * The policy VeRLTrainer builds when none is given: a `TransformerPolicy` sized by `config.model`, with a
 * character tokenizer of the data (a chat tokenizer in agent mode), a context that fits the longest prompt plus
 * `maxNewTokens` (at least 64), and a value head when GAE needs one; its weights derive from `config.seed`.
 */
export function buildDefaultPolicy(input: DefaultPolicyInput): TransformerPolicy {
  const { config, samples } = input;
  const agentMode = input.agentContextLength !== undefined;
  const corpus = [...samples, ...input.extra].flatMap((sample) => [sample.input, sample.output]);
  const tokenizer = input.tokenizer ?? (agentMode ? chatTokenizer(corpus) : CharTokenizer.fromCorpus(corpus));
  const model = config.model ?? {};
  const longestPrompt = Math.max(0, ...samples.map((sample) => tokenizer.encode(sample.input).length));
  const contextLength =
    model.contextLength ?? input.agentContextLength ?? Math.max(64, longestPrompt + 1 + config.maxNewTokens);
  return new TransformerPolicy({
    tokenizer,
    config: {
      ...model,
      contextLength,
      valueHead: model.valueHead ?? config.advantageEstimator === "gae",
    },
    seed: deriveSeed(config.seed, "policy"),
  });
}
