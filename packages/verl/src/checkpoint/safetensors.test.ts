import { CheckpointError } from "@orbiter/types";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkSafetensorsLayout } from "../internal/testing/check-safetensors-layout.js";
import { decodeSafetensors, encodeSafetensors, type SafetensorsTensor } from "./safetensors.js";

/** Reads a little-endian float32 at a byte position, independently of the decoder. */
function readF32(bytes: Uint8Array, position: number): number {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).readFloatLE(position);
}

describe("safetensors", () => {
  const tensors = new Map<string, SafetensorsTensor>([
    ["a.weight", { dtype: "F32", shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 0, 1e-8, -7]) }],
    ["b", { dtype: "I32", shape: [2], data: Int32Array.from([-1, 2147483647]) }],
    ["scalar", { dtype: "F64", shape: [], data: Float64Array.from([Math.PI]) }],
    ["empty", { dtype: "U8", shape: [0, 4], data: new Uint8Array(0) }],
  ]);

  it("writes the documented layout with little-endian data", () => {
    const bytes = encodeSafetensors(tensors, { purpose: "test" });
    expect(checkSafetensorsLayout(bytes)).toEqual([]);
    const size = Number(Buffer.from(bytes).readBigUInt64LE(0));
    expect((8 + size) % 8).toBe(0);
    const header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + size)).toString("utf8"));
    expect(header.__metadata__).toEqual({ purpose: "test" });
    expect(header["a.weight"]).toEqual({ dtype: "F32", shape: [2, 3], data_offsets: [0, 24] });
    expect(readF32(bytes, 8 + size + 8)).toBe(3.5);
  });

  it("reads back exactly what it wrote", () => {
    const { tensors: read, metadata } = decodeSafetensors(encodeSafetensors(tensors, { k: "v" }));
    expect(metadata).toEqual({ k: "v" });
    expect([...read.keys()]).toEqual([...tensors.keys()]);
    for (const [name, tensor] of tensors) expect(read.get(name)).toEqual(tensor);
  });

  it("round-trips arbitrary float32 tensors bit for bit", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.string({ minLength: 1, maxLength: 8 }), fc.array(fc.float(), { maxLength: 20 })),
          {
            maxLength: 5,
          },
        ),
        (entries) => {
          const map = new Map<string, SafetensorsTensor>();
          for (const [name, values] of entries) {
            if (name === "__metadata__") continue;
            map.set(name, { dtype: "F32", shape: [values.length], data: Float32Array.from(values) });
          }
          const bytes = encodeSafetensors(map);
          expect(checkSafetensorsLayout(bytes)).toEqual([]);
          const read = decodeSafetensors(bytes).tensors;
          for (const [name, tensor] of map) {
            expect(Buffer.from((read.get(name)!.data as Float32Array).buffer)).toEqual(
              Buffer.from(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength),
            );
          }
        },
      ),
    );
  });

  it("rejects truncated, overlapping and malformed files with CheckpointError", () => {
    const bytes = encodeSafetensors(tensors);
    expect(() => decodeSafetensors(bytes.subarray(0, bytes.length - 4), "x.safetensors")).toThrow(
      CheckpointError,
    );
    expect(() => decodeSafetensors(new Uint8Array(4))).toThrow(/shorter/);
    const header = new TextEncoder().encode(
      JSON.stringify({ t: { dtype: "F32", shape: [2], data_offsets: [0, 4] } }),
    );
    const bad = new Uint8Array(8 + header.length + 4);
    new DataView(bad.buffer).setBigUint64(0, BigInt(header.length), true);
    bad.set(header, 8);
    expect(() => decodeSafetensors(bad)).toThrow(/spans 4 bytes/);
    expect(() =>
      encodeSafetensors(new Map([["x", { dtype: "F32", shape: [3], data: new Float32Array(2) }]])),
    ).toThrow(CheckpointError);
  });
});
