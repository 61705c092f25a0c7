import type * as tf from "@tensorflow/tfjs";
import { affine, dense, denseResidual } from "../internal/fast-matmul.js";
import { gelu, geluInference } from "../internal/gelu.js";
import { layerNorm, layerNormInference } from "../internal/layer-norm.js";

/** The variables of one pre-LayerNorm transformer block. */
export interface BlockWeights {
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

/** A parameter's stable name, shape and initialisation. */
export interface ParameterSpec {
  name: string;
  shape: number[];
  init: "normal" | "zeros" | "ones";
  std?: number;
}

/** The parameters of block `index` (d-wide residual, m-wide MLP), in checkpoint order, keyed by their field. */
export function blockParameterSpecs(
  index: number,
  sizes: { d: number; m: number; initStd: number; residualStd: number },
): Array<ParameterSpec & { field: keyof BlockWeights }> {
  const { d, m, initStd, residualStd } = sizes;
  const p = `blocks.${index}`;
  const normal = (std: number) => ({ init: "normal" as const, std });
  return [
    { field: "ln1Gain", name: `${p}.ln1.gain`, shape: [d], init: "ones" },
    { field: "ln1Bias", name: `${p}.ln1.bias`, shape: [d], init: "zeros" },
    { field: "queryWeight", name: `${p}.attention.query.weight`, shape: [d, d], ...normal(initStd) },
    { field: "queryBias", name: `${p}.attention.query.bias`, shape: [d], init: "zeros" },
    { field: "keyWeight", name: `${p}.attention.key.weight`, shape: [d, d], ...normal(initStd) },
    { field: "keyBias", name: `${p}.attention.key.bias`, shape: [d], init: "zeros" },
    { field: "valueWeight", name: `${p}.attention.value.weight`, shape: [d, d], ...normal(initStd) },
    { field: "valueBias", name: `${p}.attention.value.bias`, shape: [d], init: "zeros" },
    { field: "outWeight", name: `${p}.attention.out.weight`, shape: [d, d], ...normal(residualStd) },
    { field: "outBias", name: `${p}.attention.out.bias`, shape: [d], init: "zeros" },
    { field: "ln2Gain", name: `${p}.ln2.gain`, shape: [d], init: "ones" },
    { field: "ln2Bias", name: `${p}.ln2.bias`, shape: [d], init: "zeros" },
    { field: "mlpInWeight", name: `${p}.mlp.in.weight`, shape: [d, m], ...normal(initStd) },
    { field: "mlpInBias", name: `${p}.mlp.in.bias`, shape: [m], init: "zeros" },
    { field: "mlpOutWeight", name: `${p}.mlp.out.weight`, shape: [m, d], ...normal(residualStd) },
    { field: "mlpOutBias", name: `${p}.mlp.out.bias`, shape: [d], init: "zeros" },
  ];
}

/** The operations a block is made of: with custom gradients (training forward) or plain (decoding). */
export interface BlockOps {
  layerNorm(x: tf.Tensor, gain: tf.Tensor, bias: tf.Tensor, epsilon: number): tf.Tensor;
  dense(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor): tf.Tensor;
  /** `residual + dense(x)`, in one pass where the kernels allow. */
  denseResidual(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor, residual: tf.Tensor): tf.Tensor;
  gelu(x: tf.Tensor): tf.Tensor;
}

/** Differentiable ops with the fast custom gradients of `src/internal` (full forwards under a gradient tape). */
export const TRAINING_OPS: BlockOps = { layerNorm, dense, denseResidual, gelu };

/** Plain ops without gradient wrappers (the KV-cache decoding steps). */
export const INFERENCE_OPS: BlockOps = {
  layerNorm: layerNormInference,
  dense: (x, weight, bias) => affine(x, weight, bias),
  denseResidual: (x, weight, bias, residual) => affine(x, weight, bias, residual),
  gelu: geluInference,
};

/** The attention of a block: queries, keys and values `[N, d]` (heads side by side) → context `[N, d]`. */
export type AttentionFunction = (queries: tf.Tensor, keys: tf.Tensor, values: tf.Tensor) => tf.Tensor;

/** Picks the rows of `[N, d]` that a block's output is needed for (the others are only keys and values). */
export type RowSelection = (rows: tf.Tensor) => tf.Tensor;

/**
 * One pre-LayerNorm block on the residual stream `x [N, d]`: `x + out(attention(LN₁ x))`, then
 * `+ MLP(LN₂ x)` with a GELU MLP. The same code serves full forwards and KV-cache decoding steps, which differ in
 * their ops and their attention. With `select`, every row still gives its key and value, but the rest of the
 * block (output projection, residual, MLP) runs on the selected rows only, which are all it returns: in a last
 * block, the positions whose outputs nothing reads cost only their keys and values.
 */
export function transformerBlock(
  x: tf.Tensor,
  block: BlockWeights,
  ops: BlockOps,
  epsilon: number,
  attention: AttentionFunction,
  select?: RowSelection,
): tf.Tensor {
  const normed = ops.layerNorm(x, block.ln1Gain, block.ln1Bias, epsilon);
  let context = attention(
    ops.dense(normed, block.queryWeight, block.queryBias),
    ops.dense(normed, block.keyWeight, block.keyBias),
    ops.dense(normed, block.valueWeight, block.valueBias),
  );
  let residual = x;
  if (select !== undefined) {
    context = select(context);
    residual = select(x);
  }
  const mid = ops.denseResidual(context, block.outWeight, block.outBias, residual);
  const normed2 = ops.layerNorm(mid, block.ln2Gain, block.ln2Bias, epsilon);
  const inner = ops.gelu(ops.dense(normed2, block.mlpInWeight, block.mlpInBias));
  return ops.denseResidual(inner, block.mlpOutWeight, block.mlpOutBias, mid);
}
