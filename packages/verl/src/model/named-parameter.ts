import type * as tf from "@tensorflow/tfjs";

/** A model parameter with its stable name (`blocks.0.attention.qkv.weight`), independent of tfjs's global names. */
export interface NamedParameter {
  /** Stable name, used in checkpoints and optimiser state. */
  readonly name: string;
  /** The tfjs variable. */
  readonly variable: tf.Variable;
}

/** A host copy of a float32 tensor: its shape and row-major values. */
export interface HostTensor {
  /** Shape of the tensor. */
  shape: number[];
  /** Row-major values. */
  data: Float32Array;
}
