import type * as tf from "@tensorflow/tfjs";
import type { HostTensor } from "../checkpoint/host-tensor.js";
import type { AdamState } from "../optim/adam-optimizer.js";
import type { GenerateOptionsInput, GenerationResult } from "../rollout/generate-options.js";
import type { Tokenizer } from "../tokenizer/tokenizer.js";
import type { NamedParameter } from "./named-parameter.js";

/** Input of {@link Policy.forward}. */
export interface ForwardInput {
  /** Token ids `[B, L]`, int32. */
  tokens: tf.Tensor2D;
  /**
   * `[B, L]`, 1 on real tokens and 0 on padding (float32 or int32). Padding may be on the left (prompts) or
   * the right; padded keys are never attended to and positions count real tokens only.
   * @default all ones
   */
  attentionMask?: tf.Tensor2D;
}

/** Output of {@link Policy.forward}; the caller owns (disposes) the tensors. */
export interface ForwardOutput {
  /** Next-token logits `[B, L, V]`: `logits[b, t]` predicts `tokens[b, t + 1]`. */
  logits: tf.Tensor3D;
  /** Value-head outputs `[B, L]`, when the policy has a value head. */
  values?: tf.Tensor2D;
}

/** Input of {@link Policy.logProbs}. */
export interface LogProbsInput extends ForwardInput {
  /**
   * First position whose token is scored: the output covers tokens `responseStart .. L-1`. Use the prompt
   * width of a {@link GenerationResult} to score just the response.
   * @default 1
   */
  responseStart?: number;
  /** Logits are divided by this before the softmax (use the sampling temperature). @default 1 */
  temperature?: number;
  /** Also return the entropy of each predictive distribution. @default false */
  withEntropy?: boolean;
  /** Also return the value-head estimate for each scored position (needs a value head). @default false */
  withValues?: boolean;
  /**
   * Compute the values from the trunk's features under stop-gradient, so that a loss on `values` trains the value
   * head alone and never the weights the log-probabilities depend on (PPO's critic as a probe of the policy's
   * features). @default false
   */
  detachValues?: boolean;
}

/** Output of {@link Policy.logProbs}, `R = L - responseStart` columns; the caller owns the tensors. */
export interface LogProbsOutput {
  /** `[B, R]`: `log p(tokens[b, responseStart + j] | tokens[b, < responseStart + j])`. */
  logProbs: tf.Tensor2D;
  /** `[B, R]`: entropy of the distribution that produced `logProbs[b, j]`, when asked for. */
  entropy?: tf.Tensor2D;
  /** `[B, R]`: value of the state before token `responseStart + j`, when asked for. */
  values?: tf.Tensor2D;
}

/** Options of {@link Policy.clone}. */
export interface CloneOptions {
  /** Make the copy's variables untrainable (a reference model). @default false */
  frozen?: boolean;
}

/**
 * The contract between orbiter-train's RL algorithms and a model. `TransformerPolicy` implements it; bring
 * your own model by implementing it too. Tensor-returning methods are differentiable with respect to
 * {@link Policy.trainableVariables} and must be called inside `tf.tidy` / `tf.variableGrads` (or their
 * outputs disposed by the caller).
 */
export interface Policy {
  /** Version of this contract. */
  readonly specificationVersion: "v1";
  /** The tokenizer that maps text to this policy's token ids. */
  readonly tokenizer: Tokenizer;
  /** Longest sequence (prompt + response) the policy can process. */
  readonly contextLength: number;
  /** Whether `forward`/`logProbs` can return values (PPO's critic). */
  readonly hasValueHead: boolean;
  /** Whether the variables are untrainable (a frozen reference copy). */
  readonly frozen: boolean;
  /** Whether {@link Policy.dispose} has been called. */
  readonly disposed: boolean;
  /**
   * The Adam state (moments and step) these weights were trained with, when it was saved with them (e.g.
   * `TransformerPolicy.load` of a checkpoint with an `optimizer.safetensors`). `VeRLTrainer` starts its optimiser
   * from it unless `config.carryOptimizerState` is false.
   */
  readonly optimizerState?: AdamState | undefined;
  /** The token ids a text prompt becomes in {@link Policy.generate} (e.g. with a BOS token first). */
  encodePrompt(prompt: string): number[];
  /** Logits (and values) for every position. */
  forward(input: ForwardInput): ForwardOutput;
  /** Per-token log-probabilities of the given tokens (and entropy and values when asked), under gradient. */
  logProbs(input: LogProbsInput): LogProbsOutput;
  /** Samples `n` continuations of every prompt (text, or token ids without padding), as one batch. */
  generate(
    prompts: ReadonlyArray<string | ReadonlyArray<number>>,
    options?: GenerateOptionsInput,
  ): Promise<GenerationResult>;
  /** Every parameter with its stable name (frozen ones included). */
  parameters(): ReadonlyArray<NamedParameter>;
  /** The variables an optimiser should update (empty when frozen). */
  trainableVariables(): tf.Variable[];
  /** Host copies of every parameter, by stable name. */
  getWeights(): Map<string, HostTensor>;
  /** Overwrites parameters from host copies; names and shapes must match (CheckpointError otherwise). */
  setWeights(weights: ReadonlyMap<string, HostTensor>): void;
  /** An independent copy with the same weights (frozen for a reference model). */
  clone(options?: CloneOptions): Policy;
  /** Writes the weights, configuration and tokenizer to `directory` (a checkpoint). */
  save(directory: string): Promise<void>;
  /** Frees the variables. The policy cannot be used afterwards. */
  dispose(): void;
}
