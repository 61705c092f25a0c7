import {
  CheckpointError,
  deriveSeed,
  InvalidArgumentError,
  InvalidStateError,
  parseWith,
} from "@orbiter/types";
import * as tf from "@tensorflow/tfjs";
import { readModelCheckpoint, writeModelCheckpoint } from "../checkpoint/model-checkpoint.js";
import { batchMatMul } from "../internal/batch-matmul.js";
import { embeddingLookup } from "../internal/embedding-lookup.js";
import { dense } from "../internal/fast-matmul.js";
import { gelu, geluInference } from "../internal/gelu.js";
import { layerNorm, layerNormInference } from "../internal/layer-norm.js";
import { batchedGenerate, encodePrompts } from "../rollout/batched-generate.js";
import {
  GenerateOptions,
  type GenerateOptionsInput,
  type GenerationResult,
} from "../rollout/generate-options.js";
import { type DecoderStep, type IncrementalDecoder, KvCache, type LayerCache } from "../rollout/kv-cache.js";
import type { Tokenizer } from "../tokenizer/tokenizer.js";
import { tokenizerFromJSON } from "../tokenizer/tokenizer-from-json.js";
import type { HostTensor, NamedParameter } from "./named-parameter.js";
import type {
  CloneOptions,
  ForwardInput,
  ForwardOutput,
  LogProbsInput,
  LogProbsOutput,
  Policy,
} from "./policy.js";
import {
  type ResolvedTransformerConfig,
  TransformerConfig,
  type TransformerConfigInput,
} from "./transformer-config.js";

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

/** The metadata key under which checkpoints keep the policy kind. */
const POLICY_KIND = "transformer";
const NEG_INF = -1e9;

interface Block {
  ln1Gain: tf.Variable;
  ln1Bias: tf.Variable;
  queryWeight: tf.Variable;
  queryBias: tf.Variable;
  keyWeight: tf.Variable;
  keyBias: tf.Variable;
  valueWeight: tf.Variable;
  valueBias: tf.Variable;
  outWeight: tf.Variable;
  outBias: tf.Variable;
  ln2Gain: tf.Variable;
  ln2Bias: tf.Variable;
  mlpInWeight: tf.Variable;
  mlpInBias: tf.Variable;
  mlpOutWeight: tf.Variable;
  mlpOutBias: tf.Variable;
}

interface ParameterSpec {
  name: string;
  shape: number[];
  init: "normal" | "zeros" | "ones";
  std?: number;
}

let instanceCounter = 0;

/** The names, shapes and init of every parameter of a transformer of the given sizes, in a fixed order. */
export function transformerParameterSpecs(config: ResolvedTransformerConfig): ParameterSpec[] {
  const { vocabSize: v, contextLength: t, dModel: d, dMlp: m, nLayers, initStd } = config;
  const residualStd = initStd / Math.sqrt(2 * nLayers);
  const specs: ParameterSpec[] = [
    { name: "token_embedding", shape: [v, d], init: "normal", std: initStd },
    { name: "position_embedding", shape: [t, d], init: "normal", std: initStd },
  ];
  for (let i = 0; i < nLayers; i++) {
    const p = `blocks.${i}`;
    specs.push(
      { name: `${p}.ln1.gain`, shape: [d], init: "ones" },
      { name: `${p}.ln1.bias`, shape: [d], init: "zeros" },
      { name: `${p}.attention.query.weight`, shape: [d, d], init: "normal", std: initStd },
      { name: `${p}.attention.query.bias`, shape: [d], init: "zeros" },
      { name: `${p}.attention.key.weight`, shape: [d, d], init: "normal", std: initStd },
      { name: `${p}.attention.key.bias`, shape: [d], init: "zeros" },
      { name: `${p}.attention.value.weight`, shape: [d, d], init: "normal", std: initStd },
      { name: `${p}.attention.value.bias`, shape: [d], init: "zeros" },
      { name: `${p}.attention.out.weight`, shape: [d, d], init: "normal", std: residualStd },
      { name: `${p}.attention.out.bias`, shape: [d], init: "zeros" },
      { name: `${p}.ln2.gain`, shape: [d], init: "ones" },
      { name: `${p}.ln2.bias`, shape: [d], init: "zeros" },
      { name: `${p}.mlp.in.weight`, shape: [d, m], init: "normal", std: initStd },
      { name: `${p}.mlp.in.bias`, shape: [m], init: "zeros" },
      { name: `${p}.mlp.out.weight`, shape: [m, d], init: "normal", std: residualStd },
      { name: `${p}.mlp.out.bias`, shape: [d], init: "zeros" },
    );
  }
  specs.push(
    { name: "final_ln.gain", shape: [d], init: "ones" },
    { name: "final_ln.bias", shape: [d], init: "zeros" },
    { name: "lm_head.weight", shape: [d, v], init: "normal", std: initStd },
    { name: "lm_head.bias", shape: [v], init: "zeros" },
  );
  if (config.valueHead) {
    specs.push(
      { name: "value_head.weight", shape: [d, 1], init: "normal", std: initStd },
      { name: "value_head.bias", shape: [1], init: "zeros" },
    );
  }
  return specs;
}

/** The causal attention bias `[1, 1, L, L]`: 0 on and below the diagonal, −1e9 above. */
function causalBias(length: number): tf.Tensor4D {
  const values = new Float32Array(length * length);
  for (let i = 0; i < length; i++) {
    for (let j = i + 1; j < length; j++) values[i * length + j] = NEG_INF;
  }
  return tf.tensor4d(values, [1, 1, length, length]);
}

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
export class TransformerPolicy implements Policy, IncrementalDecoder {
  readonly specificationVersion = "v1" as const;
  /** The resolved model sizes. */
  readonly config: ResolvedTransformerConfig;
  readonly tokenizer: Tokenizer;
  readonly frozen: boolean;
  /** Whether text prompts get a BOS token. */
  readonly addBos: boolean;
  private readonly named: NamedParameter[];
  private readonly byName: Map<string, tf.Variable>;
  private readonly blocks: Block[];
  private isDisposed = false;

  /**
   * @param options tokenizer, sizes, seed
   * @param initial starting values by parameter name instead of the seeded init (used by `clone` and `load`;
   *   shapes are those of {@link transformerParameterSpecs})
   */
  constructor(options: TransformerPolicyOptions, initial?: ReadonlyMap<string, tf.Tensor | HostTensor>) {
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
    this.blocks = Array.from({ length: this.config.nLayers }, (_, i) => {
      const p = `blocks.${i}`;
      return {
        ln1Gain: this.parameter(`${p}.ln1.gain`),
        ln1Bias: this.parameter(`${p}.ln1.bias`),
        queryWeight: this.parameter(`${p}.attention.query.weight`),
        queryBias: this.parameter(`${p}.attention.query.bias`),
        keyWeight: this.parameter(`${p}.attention.key.weight`),
        keyBias: this.parameter(`${p}.attention.key.bias`),
        valueWeight: this.parameter(`${p}.attention.value.weight`),
        valueBias: this.parameter(`${p}.attention.value.bias`),
        outWeight: this.parameter(`${p}.attention.out.weight`),
        outBias: this.parameter(`${p}.attention.out.bias`),
        ln2Gain: this.parameter(`${p}.ln2.gain`),
        ln2Bias: this.parameter(`${p}.ln2.bias`),
        mlpInWeight: this.parameter(`${p}.mlp.in.weight`),
        mlpInBias: this.parameter(`${p}.mlp.in.bias`),
        mlpOutWeight: this.parameter(`${p}.mlp.out.weight`),
        mlpOutBias: this.parameter(`${p}.mlp.out.bias`),
      };
    });
  }

  /** Reads a policy written by {@link TransformerPolicy.save} (weights, sizes and tokenizer). */
  static async load(directory: string, options: { frozen?: boolean } = {}): Promise<TransformerPolicy> {
    const { weights, metadata, path } = await readModelCheckpoint(directory);
    if (metadata["orbiter.policy"] !== POLICY_KIND) {
      throw new CheckpointError(`${path} does not hold a transformer policy`, { path });
    }
    let config: unknown;
    let tokenizerJson: unknown;
    try {
      config = JSON.parse(metadata["orbiter.config"] ?? "null");
      tokenizerJson = JSON.parse(metadata["orbiter.tokenizer"] ?? "null");
    } catch (error) {
      throw new CheckpointError(`${path}: unreadable config or tokenizer metadata`, { path, cause: error });
    }
    const addBos = metadata["orbiter.addBos"] !== "false";
    let policy: TransformerPolicy;
    try {
      policy = new TransformerPolicy({
        tokenizer: tokenizerFromJSON(tokenizerJson),
        config: config as TransformerConfigInput,
        frozen: options.frozen ?? false,
        addBos,
      });
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      throw new CheckpointError(`${path}: invalid config or tokenizer metadata (${detail})`, {
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
    const problems: string[] = [];
    for (const { name, variable } of this.named) {
      const given = weights.get(name);
      if (given === undefined) problems.push(`missing "${name}" (expected shape [${variable.shape}])`);
      else if (
        given.shape.length !== variable.shape.length ||
        given.shape.some((s, i) => s !== variable.shape[i])
      ) {
        problems.push(`"${name}" has shape [${given.shape}], expected [${variable.shape}]`);
      } else if (given.data.length !== variable.size) {
        problems.push(`"${name}" has ${given.data.length} values, expected ${variable.size}`);
      }
    }
    for (const name of weights.keys()) {
      if (!this.byName.has(name)) problems.push(`unexpected "${name}"`);
    }
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
    await writeModelCheckpoint(directory, this.getWeights(), {
      "orbiter.policy": POLICY_KIND,
      "orbiter.config": JSON.stringify(this.config),
      "orbiter.tokenizer": JSON.stringify(this.tokenizer.toJSON()),
      "orbiter.addBos": String(this.addBos),
    });
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
    const hidden = layerNorm(
      this.trunk(tokens, attentionMask, null),
      this.parameter("final_ln.gain"),
      this.parameter("final_ln.bias"),
      this.config.layerNormEpsilon,
    );
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
    const start = input.responseStart ?? 1;
    if (!Number.isInteger(start) || start < 1 || start >= length) {
      throw new InvalidArgumentError(`responseStart must be an integer in [1, ${length - 1}], got ${start}`, {
        field: "responseStart",
        value: start,
      });
    }
    const temperature = input.temperature ?? 1;
    if (!(temperature > 0) || !Number.isFinite(temperature)) {
      throw new InvalidArgumentError("temperature must be a positive number", {
        field: "temperature",
        value: temperature,
      });
    }
    if (input.withValues && !this.config.valueHead) {
      throw new InvalidArgumentError("withValues needs a policy with a value head (config.valueHead)", {
        field: "withValues",
      });
    }
    const { dModel: d, vocabSize: v } = this.config;
    const count = length - start;
    const trunk = this.trunk(tokens, attentionMask, null);
    // Hidden states that predict tokens start..L-1 sit at positions start-1..L-2.
    const selected = tf.reshape(
      tf.slice(tf.reshape(trunk, [batch, length, d]), [0, start - 1, 0], [batch, count, d]),
      [batch * count, d],
    );
    const hidden = layerNorm(
      selected,
      this.parameter("final_ln.gain"),
      this.parameter("final_ln.bias"),
      this.config.layerNormEpsilon,
    );
    let logits = dense(hidden, this.parameter("lm_head.weight"), this.parameter("lm_head.bias"));
    if (temperature !== 1) logits = tf.div(logits, temperature);
    const logSoftmax = tf.logSoftmax(logits);
    const targets = tf.reshape(tf.slice(tokens, [0, start], [batch, count]), [batch * count]);
    const oneHot = tf.cast(tf.oneHot(tf.cast(targets, "int32") as tf.Tensor1D, v), "float32");
    const out: LogProbsOutput = {
      logProbs: tf.reshape(tf.sum(tf.mul(logSoftmax, oneHot), 1), [batch, count]) as tf.Tensor2D,
    };
    if (input.withEntropy) {
      out.entropy = tf.reshape(tf.neg(tf.sum(tf.mul(tf.exp(logSoftmax), logSoftmax), 1)), [
        batch,
        count,
      ]) as tf.Tensor2D;
    }
    if (input.withValues) out.values = this.valueHead(hidden, batch, count);
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

  /** @internal Prefill of the batched sampler; see {@link IncrementalDecoder.prefill}. */
  prefill(tokens: tf.Tensor2D, mask: tf.Tensor2D | null, repeat: number): DecoderStep {
    this.assertUsable();
    const [prompts, length] = tokens.shape;
    const layers: LayerCache[] = [];
    const trunk = this.trunk(tokens, mask ?? undefined, layers);
    const last = tf.reshape(
      tf.slice(
        tf.reshape(trunk, [prompts, length, this.config.dModel]),
        [0, length - 1, 0],
        [prompts, 1, -1],
      ),
      [prompts, this.config.dModel],
    );
    let { logits, values } = this.head(last);
    let keyBias: tf.Tensor4D | null =
      mask === null
        ? null
        : (tf.reshape(tf.mul(tf.sub(1, mask), NEG_INF), [prompts, 1, 1, length]) as tf.Tensor4D);
    if (repeat > 1) {
      const index = tf.tensor1d(
        Array.from({ length: prompts * repeat }, (_, row) => Math.floor(row / repeat)),
        "int32",
      );
      logits = tf.gather(logits, index);
      if (values !== undefined) values = tf.gather(values, index);
      for (const layer of layers) {
        layer.keys = tf.gather(layer.keys, index);
        layer.values = tf.gather(layer.values, index);
      }
      if (keyBias !== null) keyBias = tf.gather(keyBias, index);
    }
    const embeddings = {
      token: new Float32Array(this.parameter("token_embedding").dataSync() as Float32Array),
      position: new Float32Array(this.parameter("position_embedding").dataSync() as Float32Array),
      width: this.config.dModel,
    };
    const cache = new KvCache(layers, keyBias, length, embeddings);
    return values === undefined ? { logits, cache } : { logits, cache, values };
  }

  /** @internal One decoding step of the batched sampler; see {@link IncrementalDecoder.step}. */
  step(cache: KvCache, tokens: Int32Array, positions: Int32Array): DecoderStep {
    this.assertUsable();
    const { dModel: d, nHeads: h, layerNormEpsilon: eps, vocabSize, contextLength } = this.config;
    const headSize = d / h;
    const batch = tokens.length;
    const scale = 1 / Math.sqrt(headSize);
    // Input rows are summed on the host from the embeddings copied at prefill: one upload instead of
    // one-hot products (the ids are on the host already).
    const { token, position } = cache.embeddings;
    const input = new Float32Array(batch * d);
    for (let row = 0; row < batch; row++) {
      const id = tokens[row]!;
      const at = positions[row]!;
      if (id < 0 || id >= vocabSize || at < 0 || at >= contextLength) {
        throw new InvalidArgumentError(`Row ${row}: token ${id} or position ${at} is out of range`, {
          field: "tokens",
        });
      }
      for (let j = 0; j < d; j++) input[row * d + j] = token[id * d + j]! + position[at * d + j]!;
    }
    let x: tf.Tensor = tf.tensor2d(input, [batch, d]);
    const keyBias =
      cache.keyBias === null
        ? null
        : (tf.concat([cache.keyBias, tf.zeros([batch, 1, 1, 1])], 3) as tf.Tensor4D);
    const layers: LayerCache[] = [];
    this.blocks.forEach((block, i) => {
      const previous = cache.layers[i]!;
      const normed = layerNormInference(x, block.ln1Gain, block.ln1Bias, eps);
      const project = (weight: tf.Variable, bias: tf.Variable) =>
        tf.fused.matMul({ a: normed as tf.Tensor2D, b: weight as tf.Tensor2D, bias });
      const q = project(block.queryWeight, block.queryBias);
      const k = project(block.keyWeight, block.keyBias);
      const v = project(block.valueWeight, block.valueBias);
      const keys = tf.concat([previous.keys, tf.reshape(k, [batch, h, 1, headSize])], 2) as tf.Tensor4D;
      const values = tf.concat([previous.values, tf.reshape(v, [batch, h, 1, headSize])], 2) as tf.Tensor4D;
      layers.push({ keys, values });
      // Batched products take wasm's generic path, where transposeB costs nothing extra.
      let scores = tf.matMul(tf.mul(tf.reshape(q, [batch, h, 1, headSize]), scale), keys, false, true);
      if (keyBias !== null) scores = tf.add(scores, keyBias);
      const attention = tf.reshape(tf.matMul(tf.softmax(scores), values), [batch, d]);
      x = tf.add(
        x,
        tf.fused.matMul({
          a: attention as tf.Tensor2D,
          b: block.outWeight as tf.Tensor2D,
          bias: block.outBias,
        }),
      );
      const normed2 = layerNormInference(x, block.ln2Gain, block.ln2Bias, eps);
      const inner = geluInference(
        tf.fused.matMul({
          a: normed2 as tf.Tensor2D,
          b: block.mlpInWeight as tf.Tensor2D,
          bias: block.mlpInBias,
        }),
      );
      x = tf.add(
        x,
        tf.fused.matMul({
          a: inner as tf.Tensor2D,
          b: block.mlpOutWeight as tf.Tensor2D,
          bias: block.mlpOutBias,
        }),
      );
    });
    const next = new KvCache(layers, keyBias, cache.length + 1, cache.embeddings);
    const { logits, values } = this.head(x);
    return values === undefined ? { logits, cache: next } : { logits, cache: next, values };
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
    const logits = tf.fused.matMul({
      a: normed as tf.Tensor2D,
      b: this.parameter("lm_head.weight") as tf.Tensor2D,
      bias: this.parameter("lm_head.bias"),
    }) as tf.Tensor2D;
    if (!this.config.valueHead) return { logits };
    const values = tf.fused.matMul({
      a: normed as tf.Tensor2D,
      b: this.parameter("value_head.weight") as tf.Tensor2D,
      bias: this.parameter("value_head.bias"),
    });
    return { logits, values: tf.reshape(values, [-1]) as tf.Tensor1D };
  }

  /** Value head on final hidden states `[B·L, d]` → `[B, L]`. */
  private valueHead(hidden: tf.Tensor, batch: number, length: number): tf.Tensor2D {
    const values = dense(hidden, this.parameter("value_head.weight"), this.parameter("value_head.bias"));
    return tf.reshape(values, [batch, length]) as tf.Tensor2D;
  }

  /**
   * Embeddings and every block on `tokens [B, L]` → residual stream `[B·L, d]` (before the final LayerNorm).
   * When `collect` is given, each block's keys (transposed) and values are pushed to it.
   */
  private trunk(tokens: tf.Tensor2D, mask: tf.Tensor2D | undefined, collect: LayerCache[] | null): tf.Tensor {
    const [batch, length] = tokens.shape;
    const { dModel: d, nHeads: h, layerNormEpsilon: eps } = this.config;
    const headSize = d / h;
    const scale = 1 / Math.sqrt(headSize);
    const maskFloat = mask === undefined ? undefined : tf.cast(mask, "float32");
    const positions =
      maskFloat === undefined
        ? tf.tile(tf.range(0, length, 1, "int32"), [batch])
        : tf.reshape(tf.cast(tf.relu(tf.sub(tf.cumsum(maskFloat, 1), 1)), "int32"), [batch * length]);
    let x = tf.add(
      embeddingLookup(
        this.parameter("token_embedding"),
        tf.reshape(tf.cast(tokens, "int32"), [batch * length]),
      ),
      embeddingLookup(this.parameter("position_embedding"), positions),
    );
    const causal = causalBias(length);
    const bias =
      maskFloat === undefined
        ? causal
        : tf.add(causal, tf.reshape(tf.mul(tf.sub(1, maskFloat), NEG_INF), [batch, 1, 1, length]));
    for (const block of this.blocks) {
      const normed = layerNorm(x, block.ln1Gain, block.ln1Bias, eps);
      const split = [batch, length, h, headSize];
      const q = tf.reshape(dense(normed, block.queryWeight, block.queryBias), split);
      const k = tf.reshape(dense(normed, block.keyWeight, block.keyBias), split);
      const v = tf.reshape(dense(normed, block.valueWeight, block.valueBias), split);
      const queries = tf.mul(tf.transpose(q, [0, 2, 1, 3]), scale);
      const keysT = tf.transpose(k, [0, 2, 3, 1]);
      const values = tf.transpose(v, [0, 2, 1, 3]) as tf.Tensor4D;
      if (collect !== null) collect.push({ keys: tf.transpose(k, [0, 2, 1, 3]) as tf.Tensor4D, values });
      const heads = batch * h;
      const scores = tf.reshape(
        batchMatMul(
          tf.reshape(queries, [heads, length, headSize]),
          tf.reshape(keysT, [heads, headSize, length]),
        ),
        [batch, h, length, length],
      );
      const probabilities = tf.reshape(tf.softmax(tf.add(scores, bias)), [heads, length, length]);
      const context = tf.reshape(batchMatMul(probabilities, tf.reshape(values, [heads, length, headSize])), [
        batch,
        h,
        length,
        headSize,
      ]);
      const attention = tf.reshape(tf.transpose(context, [0, 2, 1, 3]), [batch * length, d]);
      x = tf.add(x, dense(attention, block.outWeight, block.outBias));
      const normed2 = layerNorm(x, block.ln2Gain, block.ln2Bias, eps);
      const inner = gelu(dense(normed2, block.mlpInWeight, block.mlpInBias));
      x = tf.add(x, dense(inner, block.mlpOutWeight, block.mlpOutBias));
    }
    return x;
  }

  private checkInput(input: ForwardInput): { tokens: tf.Tensor2D; attentionMask: tf.Tensor2D | undefined } {
    const tokens = input?.tokens;
    if (!(tokens instanceof tf.Tensor) || tokens.rank !== 2) {
      throw new InvalidArgumentError("tokens must be a 2-D tensor [batch, length]", { field: "tokens" });
    }
    const [batch, length] = tokens.shape;
    if (length < 1 || length > this.config.contextLength) {
      throw new InvalidArgumentError(
        `tokens has length ${length}; it must be between 1 and the context length ${this.config.contextLength}`,
        { field: "tokens", value: tokens.shape },
      );
    }
    const mask = input.attentionMask;
    if (mask !== undefined) {
      if (
        !(mask instanceof tf.Tensor) ||
        mask.rank !== 2 ||
        mask.shape[0] !== batch ||
        mask.shape[1] !== length
      ) {
        throw new InvalidArgumentError(`attentionMask must have the shape of tokens [${batch}, ${length}]`, {
          field: "attentionMask",
        });
      }
    }
    return { tokens, attentionMask: mask };
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
