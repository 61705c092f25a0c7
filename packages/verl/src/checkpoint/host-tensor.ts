/** A host copy of a float32 tensor: its shape and row-major values. */
export interface HostTensor {
  /** Shape of the tensor. */
  shape: number[];
  /** Row-major values. */
  data: Float32Array;
}
