import { CheckpointError } from "@orbiter/types";
import type { HostTensor } from "../checkpoint/host-tensor.js";
import { readModelCheckpoint } from "../checkpoint/model-checkpoint.js";
import type { Tokenizer } from "../tokenizer/tokenizer.js";
import { tokenizerFromJSON } from "../tokenizer/tokenizer-from-json.js";
import type { ResolvedTransformerConfig, TransformerConfigInput } from "./transformer-config.js";

/** The metadata value under `orbiter.policy` that marks a transformer policy checkpoint. */
export const TRANSFORMER_POLICY_KIND = "transformer";

/** The metadata a transformer policy checkpoint carries besides its weights. */
export function transformerMetadata(
  config: ResolvedTransformerConfig,
  tokenizer: Tokenizer,
  addBos: boolean,
): Record<string, string> {
  return {
    "orbiter.policy": TRANSFORMER_POLICY_KIND,
    "orbiter.config": JSON.stringify(config),
    "orbiter.tokenizer": JSON.stringify(tokenizer.toJSON()),
    "orbiter.addBos": String(addBos),
  };
}

/** What a transformer policy checkpoint holds: weights, sizes, tokenizer and the BOS setting. */
export interface TransformerCheckpoint {
  weights: Map<string, HostTensor>;
  config: TransformerConfigInput;
  tokenizer: Tokenizer;
  addBos: boolean;
  path: string;
}

/** Reads a checkpoint written by `TransformerPolicy.save`; CheckpointError when it is not one or is unreadable. */
export async function readTransformerCheckpoint(directory: string): Promise<TransformerCheckpoint> {
  const { weights, metadata, path } = await readModelCheckpoint(directory);
  if (metadata["orbiter.policy"] !== TRANSFORMER_POLICY_KIND) {
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
  let tokenizer: Tokenizer;
  try {
    tokenizer = tokenizerFromJSON(tokenizerJson);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new CheckpointError(`${path}: invalid config or tokenizer metadata (${detail})`, {
      path,
      cause: error,
    });
  }
  return {
    weights,
    config: config as TransformerConfigInput,
    tokenizer,
    addBos: metadata["orbiter.addBos"] !== "false",
    path,
  };
}
