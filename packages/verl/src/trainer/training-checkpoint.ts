import type { Policy } from "../model/policy.js";
import { TransformerPolicy } from "../model/transformer-policy.js";
import type { AdamOptimizer, AdamState } from "../optim/adam-optimizer.js";
import { writeOptimizerState } from "../optim/optimizer-checkpoint.js";

/** What {@link saveCheckpoint} writes. */
export interface SaveCheckpointOptions {
  /** The policy: its weights, configuration and tokenizer go to `model.safetensors`. */
  policy: Policy;
  /** Adam's moments and step go to `optimizer.safetensors` beside it. */
  optimizer?: AdamOptimizer;
}

/** What {@link loadCheckpoint} returns. */
export interface LoadedCheckpoint {
  /** The policy rebuilt from the checkpoint. */
  policy: TransformerPolicy;
  /** The optimiser state, when the checkpoint has one (give it to `AdamOptimizer.setState`). */
  optimizerState: AdamState | undefined;
}

/**
 * Writes a checkpoint directory: the policy (safetensors, with its config and tokenizer in the metadata) and,
 * when given, the optimiser state beside it. Each file is written atomically (temporary file, fsync, rename).
 *
 * @example
 * ```ts
 * await saveCheckpoint("/tmp/run/step-100", { policy, optimizer });
 * const { policy: restored, optimizerState } = await loadCheckpoint("/tmp/run/step-100");
 * ```
 */
export async function saveCheckpoint(directory: string, options: SaveCheckpointOptions): Promise<void> {
  await options.policy.save(directory);
  if (options.optimizer !== undefined) await writeOptimizerState(directory, options.optimizer.getState());
}

/**
 * Reads a checkpoint written by {@link saveCheckpoint}: a {@link TransformerPolicy} and, when present, the
 * optimiser state. Names and shapes are checked; a mismatch is a CheckpointError listing what differs.
 */
export async function loadCheckpoint(
  directory: string,
  options: { frozen?: boolean } = {},
): Promise<LoadedCheckpoint> {
  const policy = await TransformerPolicy.load(directory, options);
  const { optimizerState } = policy;
  return { policy, optimizerState };
}
