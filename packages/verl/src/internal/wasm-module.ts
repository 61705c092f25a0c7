import { unsignedLeb, type WasmFunction } from "./wasm-code.js";

/* The module around the kernels' function bodies: types, the imported memory, the exports and the code. */

function section(id: number, content: number[]): number[] {
  return [id, ...unsignedLeb(content.length), ...content];
}

function vector(items: number[][]): number[] {
  return [...unsignedLeb(items.length), ...items.flat()];
}

function name(text: string): number[] {
  const bytes = [...new TextEncoder().encode(text)];
  return [...unsignedLeb(bytes.length), ...bytes];
}

/** The bytes of a module importing `env.memory` and exporting `functions` (no results, i32/f32/v128 params). */
export function wasmModule(functions: ReadonlyArray<WasmFunction>): Uint8Array {
  const types = functions.map((f) => [0x60, ...vector(f.params.map((t) => [t])), 0]);
  const imports = vector([[...name("env"), ...name("memory"), 0x02, 0x00, 0x01]]);
  const declared = vector(functions.map((_, i) => unsignedLeb(i)));
  const exports = vector(functions.map((f, i) => [...name(f.name), 0x00, ...unsignedLeb(i)]));
  const bodies = vector(
    functions.map((f) => {
      const locals = vector(f.locals.map((t) => [1, t]));
      const body = [...locals, ...f.code.bytes, 0x0b];
      return [...unsignedLeb(body.length), ...body];
    }),
  );
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, vector(types)),
    ...section(2, imports),
    ...section(3, declared),
    ...section(7, exports),
    ...section(10, bodies),
  ]);
}
