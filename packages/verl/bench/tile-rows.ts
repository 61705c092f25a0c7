// Which register tile the matmul kernel should use on this CPU: generates the plain product
// `out [n, m] = a [n, k] @ b [k, m]` with tiles of R rows × C columns (4 × 8 is the package's kernel; 5–7 × 8,
// 2 × 16 and 3 × 16 the alternatives), each with R·C/4 vector accumulators, and prints one JSON line per tile
// with its GFLOP/s (median CPU time of 5 passes) on the products of one update of the reference workload and
// their input-gradient shapes, and the largest difference from a dot product in doubles. Wasm SIMD on x64 has
// 16 vector registers: the tile, the vectors of `b`, one broadcast of `a` and (without fused multiply-adds) a
// product must fit.
// Usage: pnpm --filter @orbiter/verl exec tsx --conditions=@orbiter/source bench/tile-rows.ts [--fma=off|on]
import {
  I32,
  Locals,
  setWasmFma,
  V128,
  WasmCode,
  type WasmFmaMode,
  type WasmFunction,
  wasmModule,
} from "./imports.js";
import { benchWasm, cpuMs, maxProductError, OUT, SECOND, UPDATE_PRODUCT_SHAPES } from "./wasm-products.js";

const fmaMode = (process.argv.find((arg) => arg.startsWith("--fma="))?.slice(6) ?? "off") as WasmFmaMode;
const fma = setWasmFma(fmaMode);
/** [n, k, m] of the update's forwards and input gradients (64 × 48 rows). */
const SHAPES: ReadonlyArray<readonly [number, number, number]> = [
  ...UPDATE_PRODUCT_SHAPES,
  [3072, 384, 128],
  [3072, 64, 128],
];

/** `mm{R}x{C}(a, b, out, n, k, m)`: the product with R × C tiles (n a multiple of R, m of C), `b` read in place. */
function productWithTile(rows: number, vectors: number): WasmFunction {
  const columns = 4 * vectors;
  const [aPtr, bPtr, outPtr, n, k, m] = [0, 1, 2, 3, 4, 5];
  const locals = new Locals(6);
  const int = () => locals.add(I32);
  const [aRow, bRow, row, j, ap, bp, bEnd, op] = [int(), int(), int(), int(), int(), int(), int(), int()];
  const rowOffset = Array.from({ length: rows }, int);
  const outOffset = Array.from({ length: rows }, int);
  const acc = Array.from({ length: vectors * rows }, () => locals.add(V128));
  const b = Array.from({ length: vectors }, () => locals.add(V128));
  const a = locals.add(V128);
  const code = new WasmCode({ fma });
  code.get(k).i32(2).shl().set(aRow);
  for (let r = 0; r < rows; r++) code.get(aRow).i32(r).mul().set(rowOffset[r]!);
  code.get(m).i32(2).shl().set(bRow);
  for (let r = 0; r < rows; r++) code.get(bRow).i32(r).mul().set(outOffset[r]!);
  code.loop(row, n, rows, (block) => {
    block.i32(0).set(j);
    block.loop(j, m, columns, (tile) => {
      for (const target of acc) tile.splatConst(0).set(target);
      tile.get(aPtr).get(row).get(aRow).mul().add().set(ap);
      tile.get(bPtr).get(j).i32(2).shl().add().set(bp);
      tile.get(bp).get(k).get(bRow).mul().add().set(bEnd);
      tile.loopBy(bp, bEnd, bRow, (step) => {
        for (const [c, vector] of b.entries())
          step
            .get(bp)
            .load(16 * c)
            .set(vector);
        for (let r = 0; r < rows; r++) {
          step.get(ap);
          if (r > 0) step.get(rowOffset[r]!).add();
          step.loadSplat().set(a);
          for (const [c, vector] of b.entries()) {
            const target = acc[vectors * r + c]!;
            step.mulAdd(
              (add) => add.get(target),
              (factors) => factors.get(a).get(vector),
            );
            step.set(target);
          }
        }
        step.get(ap).i32(4).add().set(ap);
      });
      tile.get(outPtr).get(row).get(m).mul().get(j).add().i32(2).shl().add().set(op);
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < vectors; c++) {
          tile
            .get(op)
            .get(outOffset[r]!)
            .add()
            .get(acc[vectors * r + c]!)
            .store(16 * c);
        }
      }
    });
  });
  return { name: `mm${rows}x${columns}`, params: [I32, I32, I32, I32, I32, I32], locals: locals.types, code };
}

type Product = (a: number, b: number, out: number, n: number, k: number, m: number) => void;

const wasm = benchWasm();
/** [rows, vectors of 4 columns] of each tile tried; 4 × 8 is the package's kernel. */
const tiles: ReadonlyArray<readonly [number, number]> = [
  [4, 2],
  [5, 2],
  [6, 2],
  [7, 2],
  [2, 4],
  [3, 4],
];
const memory = new wasm.Memory({ initial: 512 });
const products = new wasm.Instance(
  new wasm.Module(wasmModule(tiles.map(([rows, vectors]) => productWithTile(rows, vectors)))),
  {
    env: { memory },
  },
).exports as Record<string, Product>;
const floats = new Float32Array(memory.buffer);
for (let i = 0; i < OUT / 4; i++) floats[i] = Math.sin(i) * 0.1;

for (const [rows, vectors] of tiles) {
  const product = products[`mm${rows}x${4 * vectors}`]!;
  // The largest multiple of the tile's rows in each shape's n.
  const shapes = SHAPES.map(([n, k, m]) => [n - (n % rows), k, m] as const);
  const flops = shapes.reduce((sum, [n, k, m]) => sum + 2 * n * k * m, 0);
  const pass = () =>
    cpuMs(() => {
      for (const [n, k, m] of shapes) product(0, SECOND, OUT, n, k, m);
    });
  pass();
  const times = Array.from({ length: 5 }, pass).sort((x, y) => x - y);
  const [n, k, m] = [2 * rows, 128, 64];
  product(0, SECOND, OUT, n, k, m);
  const worst = maxProductError(floats, n, k, m);
  const line = {
    workload: "tile_rows",
    tile: `${rows}x${4 * vectors}`,
    wasm_fma: fma,
    matmul_gflops: Math.round(flops / 1e5 / times[2]!) / 10,
    max_abs_error: worst,
    pass: worst < 1e-4,
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}
