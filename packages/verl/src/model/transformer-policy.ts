import {
  CheckpointError,
  deriveSeed,
  InvalidArgumentError,
  InvalidStateError,
  messageOf,
  parseWith,
} from "@orbiter/types";
import * as tf from "@tensorflow/tfjs";
import { PolicyChatModel } from "../chat/policy-chat-model.js";
import type { HostTensor } from "../checkpoint/host-tensor.js";
import { writeModelCheckpoint } from "../checkpoint/model-checkpoint.js";
import { embeddingLookup } from "../internal/embedding-lookup.js";
import { fastExp } from "../internal/fast-exp.js";
import { affine, dense } from "../internal/fast-matmul.js";
import { layerNorm, layerNormInference } from "../internal/layer-norm.js";
import { logSoftmaxRows } from "../internal/log-softmax.js";
import { readOptimizerStateIfPresent } from "../optim/optimizer-checkpoint.js";
import { batchedGenerate, encodePrompts } from "../rollout/batched-generate.js";
import {
  GenerateOptions,
  type GenerateOptionsInput,
  type GenerationResult,
} from "../rollout/generate-options.js";
import type { DecoderStep, IncrementalDecoder, KvCache, LayerCache } from "../rollout/kv-cache.js";
import type { Tokenizer } from "../tokenizer/tokenizer.js";
import { causalBias, NEG_INF, sequenceAttention } from "./attention.js";
import { type KeptPositions, keptRows } from "./kept-positions.js";
import { type NamedParameter, weightMismatches } from "./named-parameter.js";
import type {
  CloneOptions,
  ForwardInput,
  ForwardOutput,
  LogProbsInput,
  LogProbsOutput,
  Policy,
} from "./policy.js";
import { checkForwardInput, checkLogProbsOptions } from "./policy-input.js";
import { positionRotation } from "./rotary-embedding.js";
import { sharedPromptLayout } from "./shared-prompts.js";
import { stopGradient } from "./stop-gradient.js";
import { tokenPositions } from "./token-positions.js";
import {
  type BlockWeights,
  blockParameterSpecs,
  TRAINING_OPS,
  transformerBlock,
} from "./transformer-block.js";
import { readTransformerCheckpoint, transformerMetadata } from "./transformer-checkpoint.js";
import {
  type ResolvedTransformerConfig,
  TransformerConfig,
  type TransformerConfigInput,
} from "./transformer-config.js";
import { type DecodingModel, prefillTransformer, stepTransformer } from "./transformer-decoding.js";
import { transformerParameterSpecs } from "./transformer-parameter-specs.js";

/** Options of {@link TransformerPolicy}. */
export interface TransformerPolicyOptions {
  /** Maps text to token ids; its `vocabSize` sizes the embedding unless `config.vocabSize` is given. */
  tokenizer: Tokenizer;
  /** Model sizes; see {@link TransformerConfig}. @default the reference workload's sizes */
  config?: TransformerConfigInput;
  /** Seed of the weight init: the same seed gives the same weights on every backend. @default 0 */
  seed?: number;
  /** Create untrainable variables (a reference model). @default false */
  frozen?: boolean;
  /** Put the tokenizer's BOS token before text prompts in `generate`. @default true */
  addBos?: boolean;
}

let instanceCounter = 0;

/**
 * The reference workload's policy: a decoder-only, pre-LayerNorm transformer language model (learned
 * position embeddings, causal multi-head attention, GELU MLP, final LayerNorm, untied output projection with
 * bias, optional value head) over TensorFlow.js variables, with a key/value cache for batched sampling.
 * Weight init is seeded and identical on every backend.
 *
 * @example
 * ```ts
 * await initBackend();
 * const tokenizer = CharTokenizer.fromCorpus(["hello world"]);
 * const policy = new TransformerPolicy({ tokenizer, config: { dModel: 64, nLayers: 2 }, seed: 1 });
 * const rollout = await policy.generate(["hello"], { n: 4, maxNewTokens: 8, seed: 7 });
 * console.log(rollout.texts);
 * policy.dispose();
 * ```
 */
export class TransformerPolicy extends PolicyChatModel implements Policy, IncrementalDecoder {
  readonly specificationVersion = "v1" as const;
  /** The resolved model sizes. */
  readonly config: ResolvedTransformerConfig;
  readonly tokenizer: Tokenizer;
  readonly frozen: boolean;
  /** Whether text prompts get a BOS token. */
  readonly addBos: boolean;
  /** The Adam state saved with these weights, read by {@link TransformerPolicy.load}; not kept by `clone`. */
  optimizerState: Policy["optimizerState"] = undefined;
  private readonly named: NamedParameter[];
  private readonly byName: Map<string, tf.Variable>;
  private readonly blocks: BlockWeights[];
  private isDisposed = false;

  /**
   * @param options tokenizer, sizes, seed
   * @param initial starting values by parameter name instead of the seeded init (used by `clone` and `load`;
   *   shapes are those of {@link transformerParameterSpecs})
   */
  constructor(options: TransformerPolicyOptions, initial?: ReadonlyMap<string, tf.Tensor | HostTensor>) {
    super();
    if (options === null || typeof options !== "object" || options.tokenizer == null) {
      throw new InvalidArgumentError("TransformerPolicy needs a tokenizer", { field: "tokenizer" });
    }
    const parsed = parseWith(TransformerConfig, options.config ?? {}, {
      what: "TransformerConfig",
      path: "config",
    });
    const vocabSize = parsed.vocabSize ?? options.tokenizer.vocabSize;
    if (vocabSize !== options.tokenizer.vocabSize) {
      throw new InvalidArgumentError(
        `config.vocabSize (${vocabSize}) must equal the tokenizer's vocabulary size (${options.tokenizer.vocabSize})`,
        { field: "config.vocabSize", value: vocabSize },
      );
    }
    const seed = options.seed ?? 0;
    if (!Number.isInteger(seed)) {
      throw new InvalidArgumentError("seed must be an integer", { field: "seed", value: seed });
    }
    this.config = { ...parsed, vocabSize };
    this.tokenizer = options.tokenizer;
    this.frozen = options.frozen ?? false;
    this.addBos = options.addBos ?? true;
    const prefix = `orbiter/policy${++instanceCounter}`;
    this.named = [];
    this.byName = new Map();
    for (const spec of transformerParameterSpecs(this.config)) {
      const value = tf.tidy(() => {
        const given = initial?.get(spec.name);
        if (given !== undefined) {
          return given instanceof tf.Tensor ? tf.clone(given) : tf.tensor(given.data, given.shape, "float32");
        }
        if (spec.init === "ones") return tf.ones(spec.shape);
        if (spec.init === "zeros") return tf.zeros(spec.shape);
        return tf.randomNormal(spec.shape, 0, spec.std ?? 0.02, "float32", deriveSeed(seed, spec.name));
      });
      const variable = tf.variable(value, !this.frozen, `${prefix}/${spec.name}`);
      value.dispose();
      this.named.push({ name: spec.name, variable });
      this.byName.set(spec.name, variable);
    }
    const { dModel: d, dMlp: m, initStd } = this.config;
    this.blocks = Array.from({ length: this.config.nLayers }, (_, i) => {
      const block: Partial<BlockWeights> = {};
      for (const { field, name } of blockParameterSpecs(i, { d, m, initStd, residualStd: 0 })) {
        block[field] = this.parameter(name);
      }
      return block as BlockWeights;
    });
  }

  /**
   * Reads a policy written by {@link TransformerPolicy.save} (weights, sizes and tokenizer), with the Adam state
   * saved beside the weights as `optimizerState` — except for a `frozen` policy, which never trains.
   */
  static async load(directory: string, options: { frozen?: boolean } = {}): Promise<TransformerPolicy> {
    const { weights, config, tokenizer, addBos, path } = await readTransformerCheckpoint(directory);
    const optimizerState = options.frozen ? undefined : await readOptimizerStateIfPresent(directory);
    let policy: TransformerPolicy;
    try {
      policy = new TransformerPolicy({ tokenizer, config, frozen: options.frozen ?? false, addBos });
    } catch (error) {
      throw new CheckpointError(`${path}: invalid config or tokenizer metadata (${messageOf(error)})`, {
        path,
        cause: error,
      });
    }
    try {
      policy.setWeights(weights);
    } catch (error) {
      policy.dispose();
      throw error;
    }
    policy.optimizerState = optimizerState;
    return policy;
  }

  get contextLength(): number {
    return this.config.contextLength;
  }

  get hasValueHead(): boolean {
    return this.config.valueHead;
  }

  get disposed(): boolean {
    return this.isDisposed;
  }

  /** Number of scalar parameters. */
  get parameterCount(): number {
    return this.named.reduce((sum, { variable }) => sum + variable.size, 0);
  }

  parameters(): ReadonlyArray<NamedParameter> {
    this.assertUsable();
    return this.named;
  }

  trainableVariables(): tf.Variable[] {
    this.assertUsable();
    return this.frozen ? [] : this.named.map(({ variable }) => variable);
  }

  getWeights(): Map<string, HostTensor> {
    this.assertUsable();
    const out = new Map<string, HostTensor>();
    for (const { name, variable } of this.named) {
      out.set(name, {
        shape: [...variable.shape],
        data: new Float32Array(variable.dataSync() as Float32Array),
      });
    }
    return out;
  }

  setWeights(weights: ReadonlyMap<string, HostTensor>): void {
    this.assertUsable();
    const problems = weightMismatches(this.named, weights);
    if (problems.length > 0) {
      throw new CheckpointError(`Weights do not match the policy: ${problems.join("; ")}`);
    }
    for (const { name, variable } of this.named) {
      const given = weights.get(name)!;
      tf.tidy(() => variable.assign(tf.tensor(given.data, given.shape, "float32")));
    }
  }

  clone(options: CloneOptions = {}): TransformerPolicy {
    this.assertUsable();
    const initial = new Map<string, tf.Tensor>(this.named.map(({ name, variable }) => [name, variable]));
    return new TransformerPolicy(
      {
        tokenizer: this.tokenizer,
        config: this.config,
        frozen: options.frozen ?? false,
        addBos: this.addBos,
      },
      initial,
    );
  }

  async save(directory: string): Promise<void> {
    this.assertUsable();
    await writeModelCheckpoint(
      directory,
      this.getWeights(),
      transformerMetadata(this.config, this.tokenizer, this.addBos),
    );
  }

  dispose(): void {
    if (this.isDisposed) return;
    for (const { variable } of this.named) variable.dispose();
    this.isDisposed = true;
  }

  encodePrompt(prompt: string): number[] {
    return this.tokenizer.encode(prompt, { addBos: this.addBos });
  }

  forward(input: ForwardInput): ForwardOutput {
    this.assertUsable();
    const { tokens, attentionMask } = this.checkInput(input);
    const [batch, length] = tokens.shape;
    const hidden = this.finalLayerNorm(this.trunk(tokens, attentionMask, null));
    const logits = tf.reshape(
      dense(hidden, this.parameter("lm_head.weight"), this.parameter("lm_head.bias")),
      [batch, length, this.config.vocabSize],
    ) as tf.Tensor3D;
    if (!this.config.valueHead) return { logits };
    return { logits, values: this.valueHead(hidden, batch, length) };
  }

  logProbs(input: LogProbsInput): LogProbsOutput {
    this.assertUsable();
    const { tokens, attentionMask } = this.checkInput(input);
    const [batch, length] = tokens.shape;
    const { start, temperature } = checkLogProbsOptions(input, length, this.config.valueHead);
    const { vocabSize: v } = this.config;
    const count = length - start;
    // Hidden states that predict tokens start..L-1 sit at positions start-1..L-2.
    const selected = this.trunk(tokens, attentionMask, null, { start: start - 1, count });
    const hidden = this.finalLayerNorm(selected);
    let logits = dense(hidden, this.parameter("lm_head.weight"), this.parameter("lm_head.bias"));
    if (temperature !== 1) logits = tf.div(logits, temperature);
    const logSoftmax = logSoftmaxRows(logits);
    const targets = tf.reshape(tf.slice(tokens, [0, start], [batch, count]), [batch * count]);
    const oneHot = tf.cast(tf.oneHot(tf.cast(targets, "int32") as tf.Tensor1D, v), "float32");
    const out: LogProbsOutput = {
      logProbs: tf.reshape(tf.sum(tf.mul(logSoftmax, oneHot), 1), [batch, count]) as tf.Tensor2D,
    };
    if (input.withEntropy) {
      const entropy = tf.neg(tf.sum(tf.mul(fastExp(logSoftmax), logSoftmax), 1));
      out.entropy = tf.reshape(entropy, [batch, count]) as tf.Tensor2D;
    }
    if (input.withValues) out.values = this.valueHead(hidden, batch, count, input.detachValues === true);
    return out;
  }

  async generate(
    prompts: ReadonlyArray<string | ReadonlyArray<number>>,
    options: GenerateOptionsInput = {},
  ): Promise<GenerationResult> {
    this.assertUsable();
    const parsed = parseWith(GenerateOptions, options, { what: "generate options", path: "options" });
    const promptIds = encodePrompts(prompts, this.tokenizer, this.addBos);
    return batchedGenerate(this, this.tokenizer, promptIds, parsed);
  }

  /** Prefill of the batched KV-cache sampler ({@link IncrementalDecoder.prefill}); the caller owns the result. */
  prefill(tokens: tf.Tensor2D, mask: tf.Tensor2D | null, repeat: number): DecoderStep {
    this.assertUsable();
    return prefillTransformer(this.decoding, tokens, mask, repeat);
  }

  /** One decoding step of the batched KV-cache sampler ({@link IncrementalDecoder.step}); the caller owns the result. */
  step(cache: KvCache, tokens: Int32Array, positions: Int32Array): DecoderStep {
    this.assertUsable();
    return stepTransformer(this.decoding, cache, tokens, positions);
  }

  /** The view of this policy that the KV-cache decoding functions read. */
  private get decoding(): DecodingModel {
    return {
      config: this.config,
      blocks: this.blocks,
      parameter: (name) => this.parameter(name),
      trunk: (tokens, mask, collect, keep) => this.trunk(tokens, mask, collect, keep),
      head: (x) => this.head(x),
    };
  }

  /**
   * Final LayerNorm and output projection of hidden states `[N, d]` → logits `[N, V]`, and the value head's
   * estimates `[N]` when the policy has one.
   */
  private head(x: tf.Tensor): { logits: tf.Tensor2D; values?: tf.Tensor1D } {
    const normed = layerNormInference(
      x,
      this.parameter("final_ln.gain"),
      this.parameter("final_ln.bias"),
      this.config.layerNormEpsilon,
    );
    const logits = affine(
      normed,
      this.parameter("lm_head.weight"),
      this.parameter("lm_head.bias"),
    ) as tf.Tensor2D;
    if (!this.config.valueHead) return { logits };
    const values = affine(normed, this.parameter("value_head.weight"), this.parameter("value_head.bias"));
    return { logits, values: tf.reshape(values, [-1]) as tf.Tensor1D };
  }

  /** The final LayerNorm (differentiable) of residual rows `[N, d]`. */
  private finalLayerNorm(x: tf.Tensor): tf.Tensor {
    const { layerNormEpsilon: eps } = this.config;
    return layerNorm(x, this.parameter("final_ln.gain"), this.parameter("final_ln.bias"), eps);
  }

  /** Value head on final hidden states `[B·L, d]` → `[B, L]`; `detach` stops its gradient into the trunk. */
  private valueHead(hidden: tf.Tensor, batch: number, length: number, detach = false): tf.Tensor2D {
    const features = detach ? stopGradient(hidden) : hidden;
    const values = dense(features, this.parameter("value_head.weight"), this.parameter("value_head.bias"));
    return tf.reshape(values, [batch, length]) as tf.Tensor2D;
  }

  /**
   * Embeddings and every block on `tokens [B, L]` → residual stream `[B·L, d]` (before the final LayerNorm), or
   * `[B·count, d]` for the positions `keep` names (the last block runs its MLP on those alone). When `collect` is
   * given, each block's keys (transposed) and values are pushed to it. With `keep` and no `collect`, sequences that
   * share their prompt region run it once ({@link sharedPromptLayout}); the result is the same rows.
   */
  private trunk(
    tokens: tf.Tensor2D,
    mask: tf.Tensor2D | undefined,
    collect: LayerCache[] | null,
    keep?: KeptPositions,
  ): tf.Tensor {
    const [batch, length] = tokens.shape;
    const eps = this.config.layerNormEpsilon;
    const maskFloat = mask === undefined ? undefined : tf.cast(mask, "float32");
    const positions = tokenPositions(maskFloat, batch, length);
    const ids = tf.reshape(tf.cast(tokens, "int32"), [batch * length]) as tf.Tensor1D;
    // A scoring forward whose sequences repeat their prompts keeps each distinct prompt once (shared-prompts.ts).
    const packed =
      collect === null && keep !== undefined
        ? sharedPromptLayout(tokens, mask, keep, this.config.dModel)
        : null;
    let x = tf.add(
      embeddingLookup(this.parameter("token_embedding"), packed?.pack(ids) ?? ids),
      embeddingLookup(this.parameter("position_embedding"), packed?.pack(positions) ?? positions),
    );
    const causal = causalBias(length);
    // Causal by construction: the causal bias, plus −1e9 on padded keys.
    const values =
      maskFloat === undefined
        ? causal
        : tf.add(causal, tf.reshape(tf.mul(tf.sub(1, maskFloat), NEG_INF), [batch, 1, 1, length]));
    const bias = { values, causal: true };
    const shape = { batch, length, heads: this.config.nHeads };
    const turn = positionRotation(this.config, positions);
    const full = (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor) =>
      sequenceAttention(turn(q), turn(k), v, shape, bias, collect);
    const attention = packed?.attention(full) ?? full;
    const selectLast = keep === undefined ? undefined : (packed?.select ?? keptRows(batch, length, keep));
    const last = this.blocks.length - 1;
    this.blocks.forEach((block, i) => {
      x = transformerBlock(x, block, TRAINING_OPS, eps, attention, i === last ? selectLast : undefined);
    });
    return x;
  }

  private checkInput(input: ForwardInput): { tokens: tf.Tensor2D; attentionMask: tf.Tensor2D | undefined } {
    return checkForwardInput(input, this.config.contextLength);
  }

  private parameter(name: string): tf.Variable {
    const variable = this.byName.get(name);
    if (variable === undefined) throw new InvalidStateError(`The policy has no parameter "${name}"`);
    return variable;
  }

  private assertUsable(): void {
    if (this.isDisposed) throw new InvalidStateError("The policy has been disposed", { state: "disposed" });
  }
}
