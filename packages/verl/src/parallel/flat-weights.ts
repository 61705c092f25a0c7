import type { HostTensor } from "../checkpoint/host-tensor.js";
import type { Policy } from "../model/policy.js";

/** Where each parameter of a policy sits in one flat float32 buffer, in `policy.parameters()` order. */
export interface ParameterLayout {
  /** Stable parameter names. */
  names: string[];
  /** Shape of each parameter. */
  shapes: number[][];
  /** Offset (in floats) of each parameter. */
  offsets: number[];
  /** Number of floats of all parameters. */
  total: number;
}

/** The {@link ParameterLayout} of a policy's parameters (frozen ones included). */
export function parameterLayout(policy: Policy): ParameterLayout {
  const names: string[] = [];
  const shapes: number[][] = [];
  const offsets: number[] = [];
  let total = 0;
  for (const { name, variable } of policy.parameters()) {
    names.push(name);
    shapes.push([...variable.shape]);
    offsets.push(total);
    total += variable.size;
  }
  return { names, shapes, offsets, total };
}

/** Copies every parameter of `policy` into `target` at its layout offset (one device read per parameter). */
export function writeFlatWeights(policy: Policy, layout: ParameterLayout, target: Float32Array): void {
  policy.parameters().forEach(({ variable }, i) => {
    target.set(variable.dataSync() as Float32Array, layout.offsets[i] as number);
  });
}

/**
 * The weights named and shaped by `specs`, laid end to end in `source` in that order, as host tensors (copies: the
 * buffer may be shared and overwritten later).
 */
export function unflattenWeights(
  specs: Iterable<{ name: string; shape: number[] }>,
  source: Float32Array,
): Map<string, HostTensor> {
  const weights = new Map<string, HostTensor>();
  let offset = 0;
  for (const { name, shape } of specs) {
    const size = shape.reduce((a, b) => a * b, 1);
    weights.set(name, { shape, data: source.slice(offset, offset + size) });
    offset += size;
  }
  return weights;
}

/** Sets every parameter of `policy` from `source` (copies: the buffer may be shared and overwritten later). */
export function readFlatWeights(policy: Policy, layout: ParameterLayout, source: Float32Array): void {
  const specs = layout.names.map((name, i) => ({ name, shape: layout.shapes[i] as number[] }));
  policy.setWeights(unflattenWeights(specs, source));
}
