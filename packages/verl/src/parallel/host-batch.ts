import * as tf from "@tensorflow/tfjs";
import type { MicroBatchTensors } from "../trainer/micro-batch-loss.js";
import type { RolloutBatch } from "../trainer/rollout-batch.js";
import type { HostBatch } from "./worker-protocol.js";

/** Host copies of every tensor of a rollout batch (one device read each), for the workers. */
export function toHostBatch(batch: RolloutBatch): HostBatch {
  const read = (tensor: tf.Tensor | null): Float32Array | null =>
    tensor === null ? null : (tensor.dataSync() as Float32Array).slice();
  const [, length] = batch.tokens.shape;
  const [, responseLength] = batch.responseMask.shape;
  return {
    size: batch.size,
    length,
    responseLength,
    responseStart: batch.responseStart,
    tokens: Int32Array.from(batch.tokens.dataSync() as Int32Array),
    attentionMask: read(batch.attentionMask) as Float32Array,
    responseMask: read(batch.responseMask) as Float32Array,
    oldLogProbs: read(batch.oldLogProbs) as Float32Array,
    advantages: read(batch.advantages) as Float32Array,
    refLogProbs: read(batch.refLogProbs),
    returns: read(batch.returns),
    oldValues: read(batch.oldValues),
  };
}

/** The rows `rows` of a host batch as new tensors (the caller disposes them). */
export function hostRows(batch: HostBatch, rows: ReadonlyArray<number>): MicroBatchTensors {
  const pick = <T extends Float32Array | Int32Array>(source: T, width: number): T => {
    const out = new (source.constructor as new (n: number) => T)(rows.length * width);
    rows.forEach((row, i) => {
      out.set(source.subarray(row * width, (row + 1) * width), i * width);
    });
    return out;
  };
  const { length: l, responseLength: r } = batch;
  const n = rows.length;
  const responses = (source: Float32Array | null): tf.Tensor2D | null =>
    source === null ? null : tf.tensor2d(pick(source, r), [n, r]);
  return {
    tokens: tf.tensor2d(pick(batch.tokens, l), [n, l], "int32"),
    attentionMask: tf.tensor2d(pick(batch.attentionMask, l), [n, l]),
    responseMask: tf.tensor2d(pick(batch.responseMask, r), [n, r]),
    oldLogProbs: tf.tensor2d(pick(batch.oldLogProbs, r), [n, r]),
    advantages: tf.tensor2d(pick(batch.advantages, r), [n, r]),
    refLogProbs: responses(batch.refLogProbs),
    returns: responses(batch.returns),
    oldValues: responses(batch.oldValues),
  };
}
