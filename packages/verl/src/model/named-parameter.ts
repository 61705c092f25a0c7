import type * as tf from "@tensorflow/tfjs";
import type { HostTensor } from "../checkpoint/host-tensor.js";

/** A model parameter with its stable name (`blocks.0.attention.qkv.weight`), independent of tfjs's global names. */
export interface NamedParameter {
  /** Stable name, used in checkpoints and optimiser state. */
  readonly name: string;
  /** The tfjs variable. */
  readonly variable: tf.Variable;
}

/**
 * What keeps `weights` from being loaded into `named`: each missing or unexpected name and each shape or size
 * that differs, as readable phrases (empty when they match).
 */
export function weightMismatches(
  named: ReadonlyArray<NamedParameter>,
  weights: ReadonlyMap<string, HostTensor>,
): string[] {
  const problems: string[] = [];
  for (const { name, variable } of named) {
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
  const known = new Set(named.map(({ name }) => name));
  for (const name of weights.keys()) {
    if (!known.has(name)) problems.push(`unexpected "${name}"`);
  }
  return problems;
}
