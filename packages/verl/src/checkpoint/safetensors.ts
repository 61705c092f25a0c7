import { CheckpointError } from "@orbiter/types";

/** Element types this safetensors reader and writer support. */
export type SafetensorsDtype = "F32" | "F64" | "I32" | "U8";

/** One tensor of a safetensors file: element type, shape and row-major values. */
export interface SafetensorsTensor {
  /** Element type. */
  dtype: SafetensorsDtype;
  /** Shape (empty for a scalar). */
  shape: number[];
  /** Row-major values, matching `dtype`. */
  data: Float32Array | Float64Array | Int32Array | Uint8Array;
}

/** The content of a safetensors file. */
export interface SafetensorsContent {
  /** Tensors by name, in file order. */
  tensors: Map<string, SafetensorsTensor>;
  /** The `__metadata__` string → string map (empty when absent). */
  metadata: Record<string, string>;
}

const byteSizes: Record<SafetensorsDtype, number> = { F32: 4, F64: 8, I32: 4, U8: 1 };

function elementCount(shape: ReadonlyArray<number>): number {
  return shape.reduce((product, size) => product * size, 1);
}

function expectedArray(dtype: SafetensorsDtype): string {
  return { F32: "Float32Array", F64: "Float64Array", I32: "Int32Array", U8: "Uint8Array" }[dtype];
}

/**
 * Serialises tensors in the safetensors format: an 8-byte little-endian header length, a JSON header
 * (`dtype`, `shape`, `data_offsets` per tensor, plus `__metadata__`) padded with spaces to a multiple of 8
 * bytes, then the little-endian data of each tensor, back to back in header order.
 */
export function encodeSafetensors(
  tensors: ReadonlyMap<string, SafetensorsTensor>,
  metadata: Readonly<Record<string, string>> = {},
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = { ...metadata };
  let offset = 0;
  for (const [name, tensor] of tensors) {
    if (name === "__metadata__" || name.length === 0) {
      throw new CheckpointError(`Invalid tensor name ${JSON.stringify(name)}`);
    }
    const count = elementCount(tensor.shape);
    if (tensor.data.length !== count || tensor.data.constructor.name !== expectedArray(tensor.dtype)) {
      throw new CheckpointError(
        `Tensor "${name}": expected ${count} values in a ${expectedArray(tensor.dtype)}, got ${tensor.data.length} in a ${tensor.data.constructor.name}`,
      );
    }
    const size = count * byteSizes[tensor.dtype];
    header[name] = { dtype: tensor.dtype, shape: [...tensor.shape], data_offsets: [offset, offset + size] };
    offset += size;
  }
  let json = JSON.stringify(header);
  const encoder = new TextEncoder();
  let headerBytes = encoder.encode(json);
  const padding = (8 - (headerBytes.length % 8)) % 8;
  if (padding > 0) {
    json += " ".repeat(padding);
    headerBytes = encoder.encode(json);
  }
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let position = 8 + headerBytes.length;
  for (const tensor of tensors.values()) {
    const { data, dtype } = tensor;
    for (let i = 0; i < data.length; i++) {
      const value = data[i]!;
      if (dtype === "F32") view.setFloat32(position, value, true);
      else if (dtype === "F64") view.setFloat64(position, value, true);
      else if (dtype === "I32") view.setInt32(position, value, true);
      else view.setUint8(position, value);
      position += byteSizes[dtype];
    }
  }
  return out;
}

/**
 * Parses a safetensors file, checking the layout: header length within the file, a JSON object header, known
 * dtypes, integer shapes, and data offsets that match each shape and tile the data section without gaps.
 * Problems throw a {@link CheckpointError} naming `source`.
 */
export function decodeSafetensors(bytes: Uint8Array, source = "safetensors data"): SafetensorsContent {
  const fail = (message: string): never => {
    throw new CheckpointError(`${source}: ${message}`, { path: source });
  };
  if (bytes.length < 8) fail("shorter than the 8-byte header length");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > bytes.length - 8)
    fail(`header length ${headerLength} exceeds the file size ${bytes.length}`);
  let header: unknown;
  try {
    header = JSON.parse(
      new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + headerLength)),
    );
  } catch (error) {
    throw new CheckpointError(`${source}: the header is not valid UTF-8 JSON`, {
      path: source,
      cause: error,
    });
  }
  if (header === null || typeof header !== "object" || Array.isArray(header))
    fail("the header is not an object");
  const entries = header as Record<string, unknown>;
  const metadata: Record<string, string> = {};
  const rawMetadata = entries.__metadata__;
  if (rawMetadata !== undefined) {
    if (rawMetadata === null || typeof rawMetadata !== "object" || Array.isArray(rawMetadata)) {
      fail("__metadata__ is not an object");
    }
    for (const [key, value] of Object.entries(rawMetadata as Record<string, unknown>)) {
      if (typeof value !== "string") fail(`__metadata__.${key} is not a string`);
      metadata[key] = value as string;
    }
  }
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const spans: Array<{ name: string; begin: number; end: number }> = [];
  const parsed: Array<{
    name: string;
    dtype: SafetensorsDtype;
    shape: number[];
    begin: number;
    end: number;
  }> = [];
  for (const [name, raw] of Object.entries(entries)) {
    if (name === "__metadata__") continue;
    const entry = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (entry === null || typeof entry !== "object") fail(`tensor "${name}" is not an object`);
    const dtype = entry.dtype as SafetensorsDtype;
    if (typeof dtype !== "string" || !(dtype in byteSizes))
      fail(`tensor "${name}" has unsupported dtype ${entry.dtype}`);
    const shape = entry.shape;
    if (!Array.isArray(shape) || shape.some((size) => !Number.isInteger(size) || size < 0)) {
      fail(`tensor "${name}" has an invalid shape`);
    }
    const offsets = entry.data_offsets;
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => Number.isInteger(o) && o >= 0)
    ) {
      fail(`tensor "${name}" has invalid data_offsets`);
    }
    const [begin, end] = offsets as [number, number];
    const expected = elementCount(shape as number[]) * byteSizes[dtype];
    if (end - begin !== expected)
      fail(`tensor "${name}" spans ${end - begin} bytes, its shape needs ${expected}`);
    if (end > dataLength) fail(`tensor "${name}" ends at byte ${end}, past the data section (${dataLength})`);
    spans.push({ name, begin, end });
    parsed.push({ name, dtype, shape: shape as number[], begin, end });
  }
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const span of spans) {
    if (span.begin !== cursor) fail(`tensor "${span.name}" starts at byte ${span.begin}, expected ${cursor}`);
    cursor = span.end;
  }
  if (cursor !== dataLength) fail(`the data section has ${dataLength - cursor} unused trailing bytes`);
  const tensors = new Map<string, SafetensorsTensor>();
  for (const { name, dtype, shape, begin } of parsed) {
    const count = elementCount(shape);
    const position = dataStart + begin;
    let data: SafetensorsTensor["data"];
    if (dtype === "F32") {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(position + 4 * i, true);
      data = out;
    } else if (dtype === "F64") {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(position + 8 * i, true);
      data = out;
    } else if (dtype === "I32") {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt32(position + 4 * i, true);
      data = out;
    } else {
      data = bytes.slice(position, position + count);
    }
    tensors.set(name, { dtype, shape: [...shape], data });
  }
  return { tensors, metadata };
}
