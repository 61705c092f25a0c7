import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { CheckpointError, messageOf, writeFileAtomic } from "@orbiter/types";
import type { HostTensor } from "./host-tensor.js";
import { decodeSafetensors, encodeSafetensors, type SafetensorsTensor } from "./safetensors.js";

/** File name of a policy's weights inside a checkpoint directory. */
export const MODEL_FILE = "model.safetensors";

/**
 * Writes float32 weights and string metadata to `directory/model.safetensors`, atomically (other files in the folder
 * are left alone).
 *
 * @throws CheckpointError naming `directory` when it cannot be made (a file stands at it or on its way) or written
 */
export async function writeModelCheckpoint(
  directory: string,
  weights: ReadonlyMap<string, HostTensor>,
  metadata: Readonly<Record<string, string>>,
): Promise<string> {
  await mkdir(directory, { recursive: true }).catch((error: unknown) => {
    // A file at `directory` (or on its way) is not a checkpoint folder: say so with the path the caller gave.
    throw new CheckpointError(`Cannot write the checkpoint folder ${directory}: ${messageOf(error)}`, {
      path: directory,
      cause: error,
    });
  });
  const tensors = new Map<string, SafetensorsTensor>();
  for (const [name, { shape, data }] of weights) tensors.set(name, { dtype: "F32", shape, data });
  const path = join(directory, MODEL_FILE);
  await writeFileAtomic(path, encodeSafetensors(tensors, { format: "orbiter-verl", ...metadata }));
  return path;
}

/** Reads `directory/model.safetensors`: float32 weights by name and the metadata. */
export async function readModelCheckpoint(
  directory: string,
): Promise<{ weights: Map<string, HostTensor>; metadata: Record<string, string>; path: string }> {
  const path = join(directory, MODEL_FILE);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new CheckpointError(`Cannot read the checkpoint ${path}`, { path, cause: error });
  }
  const { tensors, metadata } = decodeSafetensors(bytes, path);
  const weights = new Map<string, HostTensor>();
  for (const [name, tensor] of tensors) {
    if (tensor.dtype !== "F32")
      throw new CheckpointError(`${path}: "${name}" is ${tensor.dtype}, expected F32`, { path });
    weights.set(name, { shape: tensor.shape, data: tensor.data as Float32Array });
  }
  return { weights, metadata, path };
}
