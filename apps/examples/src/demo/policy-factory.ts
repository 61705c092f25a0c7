import { deriveSeed } from "@orbiter/types";
import { chatTokenizer, TransformerPolicy } from "@orbiter/verl";
import type { DemoOptions } from "./cli.js";
import { TASK_ALPHABET } from "./task.js";

/**
 * Longest sequence the policy reads: a whole episode in the chat format (tools list, request, tool call, tool
 * result, answer: at most about 140 tokens) fits.
 */
export const CONTEXT_LENGTH = 160;

/**
 * The default transformer policy of the demo: a character tokenizer that covers the chat format (its markers,
 * printable ASCII for tool-call JSON) and the task's alphabet, and the sizes of the options. It has a value head so that PPO's critic can start from the same warm start as GRPO.
 */
export function createPolicy(options: Pick<DemoOptions, "model" | "seed">): TransformerPolicy {
  return new TransformerPolicy({
    tokenizer: chatTokenizer([TASK_ALPHABET]),
    config: { ...options.model, contextLength: CONTEXT_LENGTH, valueHead: true },
    seed: deriveSeed(options.seed, "policy"),
  });
}

/** Loads a policy checkpoint written by `policy.save(dir)`. */
export function loadPolicy(directory: string): Promise<TransformerPolicy> {
  return TransformerPolicy.load(directory);
}
