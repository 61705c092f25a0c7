import { access, mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { CheckpointError, writeFileAtomic } from "@orbiter/types";
import type { HostTensor } from "../checkpoint/host-tensor.js";
import { decodeSafetensors, encodeSafetensors, type SafetensorsTensor } from "../checkpoint/safetensors.js";
import type { AdamState } from "./adam-optimizer.js";

/** File name of the optimiser state inside a checkpoint directory. */
export const OPTIMIZER_FILE = "optimizer.safetensors";

/**
 * Writes Adam's state to `directory/optimizer.safetensors` atomically: tensors `m/<name>` and `v/<name>`, the
 * step in the metadata, and the per-parameter counts (`orbiter.steps`) when the state has them.
 */
export async function writeOptimizerState(directory: string, state: AdamState): Promise<string> {
  await mkdir(directory, { recursive: true });
  const tensors = new Map<string, SafetensorsTensor>();
  for (const [name, { m, v }] of state.moments) {
    tensors.set(`m/${name}`, { dtype: "F32", shape: m.shape, data: m.data });
    tensors.set(`v/${name}`, { dtype: "F32", shape: v.shape, data: v.data });
  }
  const path = join(directory, OPTIMIZER_FILE);
  await writeFileAtomic(
    path,
    encodeSafetensors(tensors, {
      format: "orbiter-verl",
      "orbiter.optimizer": "adam",
      "orbiter.step": String(state.step),
      ...(state.steps === undefined
        ? {}
        : { "orbiter.steps": JSON.stringify(Object.fromEntries(state.steps)) }),
    }),
  );
  return path;
}

/** Reads the state written by {@link writeOptimizerState}. */
export async function readOptimizerState(directory: string): Promise<AdamState> {
  const path = join(directory, OPTIMIZER_FILE);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new CheckpointError(`Cannot read the optimiser state ${path}`, { path, cause: error });
  }
  const { tensors, metadata } = decodeSafetensors(bytes, path);
  if (metadata["orbiter.optimizer"] !== "adam") {
    throw new CheckpointError(`${path} does not hold Adam state`, { path });
  }
  const step = Number(metadata["orbiter.step"]);
  if (!Number.isInteger(step) || step < 0) throw new CheckpointError(`${path}: invalid step`, { path });
  const partial = new Map<string, { m?: HostTensor; v?: HostTensor }>();
  for (const [key, tensor] of tensors) {
    const match = /^([mv])\/(.+)$/.exec(key);
    if (match === null || tensor.dtype !== "F32") {
      throw new CheckpointError(`${path}: unexpected tensor "${key}"`, { path });
    }
    const entry = partial.get(match[2]!) ?? {};
    entry[match[1] as "m" | "v"] = { shape: tensor.shape, data: tensor.data as Float32Array };
    partial.set(match[2]!, entry);
  }
  const moments = new Map<string, { m: HostTensor; v: HostTensor }>();
  for (const [name, { m, v }] of partial) {
    if (m === undefined || v === undefined) {
      throw new CheckpointError(`${path}: "${name}" lacks its ${m === undefined ? "m" : "v"} moment`, {
        path,
      });
    }
    moments.set(name, { m, v });
  }
  const steps = readSteps(metadata["orbiter.steps"], path);
  return steps === undefined ? { step, moments } : { step, moments, steps };
}

/** The per-parameter update counts of the metadata (`{"name": count}`), when written. */
function readSteps(text: string | undefined, path: string): Map<string, number> | undefined {
  if (text === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CheckpointError(`${path}: invalid orbiter.steps`, { path, cause: error });
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new CheckpointError(`${path}: invalid orbiter.steps`, { path });
  }
  return new Map(
    Object.entries(parsed as Record<string, unknown>).map(([name, count]) => [name, Number(count)]),
  );
}

/** {@link readOptimizerState} when `directory` holds an `optimizer.safetensors`, else undefined. */
export async function readOptimizerStateIfPresent(directory: string): Promise<AdamState | undefined> {
  const present = await access(join(directory, OPTIMIZER_FILE)).then(
    () => true,
    () => false,
  );
  return present ? readOptimizerState(directory) : undefined;
}
