import { adamFunction } from "./adam-kernel-code.js";
import { attentionFunction, attentionGradFunction } from "./attention-kernel-code.js";
import { cachedAttentionFunction } from "./cached-attention-kernel-code.js";
import { gatherRowsFunction, scatterAddRowsFunction } from "./embedding-kernel-code.js";
import { layerNormFunction, layerNormGradFunction } from "./layer-norm-kernel-code.js";
import { Constants, type ExpScratch, expScratch, Locals, pushExp } from "./simd-code-helpers.js";
import { type CodeOptions, I32, V128, WasmCode, type WasmFunction } from "./wasm-code.js";

/*
 * The bodies of the package's wasm SIMD kernels. Pointers are byte addresses in the tfjs wasm backend's memory;
 * sizes are element counts. Every kernel handles whole vectors of 4 floats only: the callers check the shapes.
 */

const C = Math.sqrt(2 / Math.PI);
const A = 0.044715;
/** Rows of a weight-gradient block: its slices of x and dy stay in the first-level cache. */
const BLOCK_ROWS = 32;

/** Pushes `1 / (1 + exp(-z))` for the vector in local `z` (`z` is negated in place). */
function pushSigmoid(code: WasmCode, z: number, k: Constants, s: ExpScratch): void {
  code.get(k.of(1));
  code.get(z).vneg().set(z);
  pushExp(code, z, k, s);
  code.get(k.of(1)).vadd().vdiv();
}

/** Sets local `z` to `x · (2c + 2ca·x²)` (so that GELU is `x · σ(z)`), for the vector in local `x`. */
function setGeluArgument(code: WasmCode, x: number, z: number, k: Constants): void {
  code
    .get(x)
    .get(x)
    .get(x)
    .vmul()
    .get(k.of(2 * C * A))
    .vmul()
    .get(k.of(2 * C))
    .vadd()
    .vmul()
    .set(z);
}

/** `gelu(x, out, count)`: `out = x · σ(2√(2/π)(x + 0.044715x³))`, the tanh-form GELU. */
function geluFunction(options: CodeOptions): WasmFunction {
  const [xPtr, outPtr, count] = [0, 1, 2];
  const locals = new Locals(3);
  const [i, end, x, z] = [locals.add(I32), locals.add(I32), locals.add(V128), locals.add(V128)];
  const code = new WasmCode(options);
  const k = new Constants(locals, code);
  const scratch = expScratch(locals, code, k);
  k.of(2 * C * A);
  k.of(2 * C);
  code.get(count).i32(2).shl().set(end);
  code.loop(i, end, 16, (body) => {
    body.get(xPtr).get(i).add().load().set(x);
    setGeluArgument(body, x, z, k);
    body.get(outPtr).get(i).add();
    body.get(x);
    pushSigmoid(body, z, k, scratch);
    body.vmul().store();
  });
  return { name: "gelu", params: [I32, I32, I32], locals: locals.types, code };
}

/** `exp(x, out, count)`: `out = eˣ` element-wise (the kernels' polynomial exp: relative error ~2e-7, ±87 clamp). */
function expFunction(options: CodeOptions): WasmFunction {
  const [xPtr, outPtr, count] = [0, 1, 2];
  const locals = new Locals(3);
  const [i, end, x] = [locals.add(I32), locals.add(I32), locals.add(V128)];
  const code = new WasmCode(options);
  const k = new Constants(locals, code);
  const scratch = expScratch(locals, code, k);
  code.get(count).i32(2).shl().set(end);
  code.loop(i, end, 16, (body) => {
    body.get(xPtr).get(i).add().load().set(x);
    body.get(outPtr).get(i).add();
    pushExp(body, x, k, scratch);
    body.store();
  });
  return { name: "exp", params: [I32, I32, I32], locals: locals.types, code };
}

/** `geluGrad(x, dy, out, count)`: `out = dy · (σ + x·σ(1 − σ)·(2c + 6ca·x²))` with σ = σ(z) as in `gelu`. */
function geluGradFunction(options: CodeOptions): WasmFunction {
  const [xPtr, dyPtr, outPtr, count] = [0, 1, 2, 3];
  const locals = new Locals(4);
  const [i, end, x, z, s] = [
    locals.add(I32),
    locals.add(I32),
    locals.add(V128),
    locals.add(V128),
    locals.add(V128),
  ];
  const code = new WasmCode(options);
  const k = new Constants(locals, code);
  const scratch = expScratch(locals, code, k);
  for (const value of [2 * C * A, 2 * C, 6 * C * A]) k.of(value);
  code.get(count).i32(2).shl().set(end);
  code.loop(i, end, 16, (body) => {
    body.get(xPtr).get(i).add().load().set(x);
    setGeluArgument(body, x, z, k);
    pushSigmoid(body, z, k, scratch);
    body.set(s);
    body.get(outPtr).get(i).add();
    body.get(dyPtr).get(i).add().load();
    // σ + x·σ·(1 − σ)·(2c + 6ca·x²)
    body.get(s);
    body.get(x).get(s).vmul().get(k.of(1)).get(s).vsub().vmul();
    body
      .get(x)
      .get(x)
      .vmul()
      .get(k.of(6 * C * A))
      .vmul()
      .get(k.of(2 * C))
      .vadd()
      .vmul();
    body.vadd().vmul().store();
  });
  return { name: "geluGrad", params: [I32, I32, I32, I32], locals: locals.types, code };
}

/**
 * Loads the 4×8 register tile `acc` (two vectors a row) from local `op`, or stores it there when `store`, its rows
 * `rowStride` bytes apart.
 */
function emitTileMove(
  code: WasmCode,
  acc: readonly number[],
  op: number,
  rowStride: number,
  store: boolean,
): void {
  for (let r = 0; r < 4; r++) {
    for (let c = 0; c < 2; c++) {
      code.get(op).get(rowStride).i32(r).mul().add();
      if (store) code.get(acc[2 * r + c]!).store(16 * c);
      else code.load(16 * c).set(acc[2 * r + c]!);
    }
  }
}

/** Adds `a · [b₀ b₁]` (a broadcast element times the 8 columns in vectors `b`) to row `r` of the 4×8 tile `acc`. */
function emitTileRowUpdate(
  code: WasmCode,
  acc: readonly number[],
  r: number,
  a: number,
  b: readonly number[],
): void {
  for (let c = 0; c < 2; c++) {
    const target = acc[2 * r + c]!;
    code.mulAdd(
      (add) => add.get(target),
      (factors) => factors.get(a).get(b[c]!),
    );
    code.set(target);
  }
}

/**
 * `weightGrad(x, dy, out, bias, n, k, m)`: `out [k, m] = xᵀ @ dy` for row-major `x [n, k]`, `dy [n, m]`
 * (k a multiple of 4, m of 8), read in place — no transposed or packed copies — in blocks of rows, each
 * accumulated into 4×8 register tiles; and, when `bias` is not 0, `bias [m] = Σₙ dy[n, :]`.
 */
function weightGradFunction(options: CodeOptions): WasmFunction {
  const [xPtr, dyPtr, outPtr, biasPtr, rows, k, m] = [0, 1, 2, 3, 4, 5, 6];
  const locals = new Locals(7);
  const int = () => locals.add(I32);
  const [xRow, dRow, total, start, stop, i, j] = [int(), int(), int(), int(), int(), int(), int()];
  const [xp, dp, dEnd, op, p] = [int(), int(), int(), int(), int()];
  const acc = Array.from({ length: 8 }, () => locals.add(V128));
  const [b0, b1, a] = [locals.add(V128), locals.add(V128), locals.add(V128)];
  const code = new WasmCode(options);
  code.get(k).i32(2).shl().set(xRow);
  code.get(m).i32(2).shl().set(dRow);
  // Zero the output.
  code.get(k).get(dRow).mul().set(total);
  code.loop(p, total, 16, (body) => {
    body.get(outPtr).get(p).add().splatConst(0).store();
  });
  code.loop(start, rows, BLOCK_ROWS, (block) => {
    block.get(start).i32(BLOCK_ROWS).add().set(stop);
    block
      .get(stop)
      .get(rows)
      .gtU()
      .when((clip) => clip.get(rows).set(stop));
    block.i32(0).set(i);
    block.loop(i, k, 4, (column) => {
      column.i32(0).set(j);
      column.loop(j, m, 8, (tile) => {
        // op = out + (i·m + j)·4: the tile's first row; row r is r·dRow further.
        tile.get(outPtr).get(i).get(m).mul().get(j).add().i32(2).shl().add().set(op);
        emitTileMove(tile, acc, op, dRow, false);
        tile.get(xPtr).get(start).get(k).mul().get(i).add().i32(2).shl().add().set(xp);
        tile.get(dyPtr).get(start).get(m).mul().get(j).add().i32(2).shl().add().set(dp);
        tile.get(dyPtr).get(stop).get(m).mul().get(j).add().i32(2).shl().add().set(dEnd);
        tile.loopBy(dp, dEnd, dRow, (row) => {
          row.get(dp).load().set(b0);
          row.get(dp).load(16).set(b1);
          for (let r = 0; r < 4; r++) {
            row
              .get(xp)
              .loadSplat(4 * r)
              .set(a);
            emitTileRowUpdate(row, acc, r, a, [b0, b1]);
          }
          row.get(xp).get(xRow).add().set(xp);
        });
        emitTileMove(tile, acc, op, dRow, true);
      });
    });
  });
  code.get(biasPtr).when((bias) => emitColumnSums(bias, dyPtr, biasPtr, rows, dRow, { p, dp, dEnd }));
  return { name: "weightGrad", params: [I32, I32, I32, I32, I32, I32, I32], locals: locals.types, code };
}

/**
 * `matmul(a, b, bias, out, n, k, m, residual)`: `out [n, m] = a [n, k] @ b [k, m] (+ bias [m] when bias is not 0)
 * (+ residual [n, m] when residual is not 0, added to the bias before the products)`, all
 * row-major, n a multiple of 4 and m of 8: 4×8 register tiles accumulated over k, `b` read in place (XNNPACK
 * packs a new right operand on every call, which costs as much as the product at these sizes).
 */
function matmulFunction(options: CodeOptions): WasmFunction {
  const [aPtr, bPtr, biasPtr, outPtr, rows, k, m, residualPtr] = [0, 1, 2, 3, 4, 5, 6, 7];
  const locals = new Locals(8);
  const int = () => locals.add(I32);
  const [aRow, bRow, row, j, ap, bp, bEnd, op] = [int(), int(), int(), int(), int(), int(), int(), int()];
  const [aRow2, aRow3, rp] = [int(), int(), int()];
  const acc = Array.from({ length: 8 }, () => locals.add(V128));
  const [b0, b1, a] = [locals.add(V128), locals.add(V128), locals.add(V128)];
  const code = new WasmCode(options);
  code.get(k).i32(2).shl().set(aRow);
  code.get(aRow).get(aRow).add().set(aRow2);
  code.get(aRow2).get(aRow).add().set(aRow3);
  code.get(m).i32(2).shl().set(bRow);
  code.loop(row, rows, 4, (block) => {
    block.i32(0).set(j);
    block.loop(j, m, 8, (tile) => {
      for (let c = 0; c < 2; c++) {
        tile.get(biasPtr);
        tile.when((withBias) => {
          withBias
            .get(biasPtr)
            .get(j)
            .i32(2)
            .shl()
            .add()
            .load(16 * c)
            .set(acc[c]!);
        });
        tile.get(biasPtr).eqz();
        tile.when((zero) => {
          zero.splatConst(0).set(acc[c]!);
        });
        for (let r = 1; r < 4; r++) tile.get(acc[c]!).set(acc[2 * r + c]!);
      }
      // The residual's tile, added before the products (a residual connection without a separate pass).
      tile.get(residualPtr).when((withResidual) => {
        withResidual.get(residualPtr).get(row).get(m).mul().get(j).add().i32(2).shl().add().set(rp);
        for (let r = 0; r < 4; r++) {
          for (let c = 0; c < 2; c++) {
            const target = acc[2 * r + c]!;
            withResidual
              .get(target)
              .get(rp)
              .get(bRow)
              .i32(r)
              .mul()
              .add()
              .load(16 * c)
              .vadd()
              .set(target);
          }
        }
      });
      tile.get(aPtr).get(row).get(aRow).mul().add().set(ap);
      tile.get(bPtr).get(j).i32(2).shl().add().set(bp);
      tile.get(bp).get(k).get(bRow).mul().add().set(bEnd);
      tile.loopBy(bp, bEnd, bRow, (step) => {
        step.get(bp).load().set(b0);
        step.get(bp).load(16).set(b1);
        const rowOffsets = [null, aRow, aRow2, aRow3];
        for (let r = 0; r < 4; r++) {
          const offset = rowOffsets[r];
          step.get(ap);
          if (offset !== null && offset !== undefined) step.get(offset).add();
          step.loadSplat().set(a);
          emitTileRowUpdate(step, acc, r, a, [b0, b1]);
        }
        step.get(ap).i32(4).add().set(ap);
      });
      tile.get(outPtr).get(row).get(m).mul().get(j).add().i32(2).shl().add().set(op);
      emitTileMove(tile, acc, op, bRow, true);
    });
  });
  return { name: "matmul", params: [I32, I32, I32, I32, I32, I32, I32, I32], locals: locals.types, code };
}

/** Emits `out [m] = Σₙ rows[n, :]` for `rows [n, m]` (m a multiple of 4; `rowBytes` = 4m), using 3 i32 scratch locals. */
function emitColumnSums(
  code: WasmCode,
  rowsPtr: number,
  outPtr: number,
  rows: number,
  rowBytes: number,
  scratch: { p: number; dp: number; dEnd: number },
): void {
  const { p, dp, dEnd } = scratch;
  code.i32(0).set(p);
  code.loop(p, rowBytes, 16, (zero) => {
    zero.get(outPtr).get(p).add().splatConst(0).store();
  });
  code.get(rowsPtr).set(dp);
  code.get(rowsPtr).get(rows).get(rowBytes).mul().add().set(dEnd);
  code.loopBy(dp, dEnd, rowBytes, (row) => {
    row.i32(0).set(p);
    row.loop(p, rowBytes, 16, (lane) => {
      lane.get(outPtr).get(p).add();
      lane.get(outPtr).get(p).add().load().get(dp).get(p).add().load().vadd();
      lane.store();
    });
  });
}

/** `columnSums(x, out, n, m)`: `out [m] = Σₙ x[n, :]` for row-major `x [n, m]`, m a multiple of 4. */
function columnSumsFunction(): WasmFunction {
  const [xPtr, outPtr, rows, m] = [0, 1, 2, 3];
  const locals = new Locals(4);
  const [rowBytes, p, dp, dEnd] = [locals.add(I32), locals.add(I32), locals.add(I32), locals.add(I32)];
  const code = new WasmCode();
  code.get(m).i32(2).shl().set(rowBytes);
  emitColumnSums(code, xPtr, outPtr, rows, rowBytes, { p, dp, dEnd });
  return { name: "columnSums", params: [I32, I32, I32, I32], locals: locals.types, code };
}

/**
 * `repeatRows(x, out, rows, slices, sliceBytes, times, targetSliceBytes)`: each row of `x` (`slices` slices of
 * `sliceBytes` bytes) written `times` times in a row to `out`, whose slices are `targetSliceBytes` long: each
 * slice copied to the start of its target and the rest of the target zeroed (`[P, H, L, hs]` → `[P·times, H, T,
 * hs]` for a KV cache with room for T positions; a plain repeat when the two slice lengths are equal).
 */
function repeatRowsFunction(): WasmFunction {
  const [xPtr, outPtr, rows, slices, sliceBytes, times, targetBytes] = [0, 1, 2, 3, 4, 5, 6];
  const locals = new Locals(7);
  const [r, t, h, source, target, rest] = [
    locals.add(I32),
    locals.add(I32),
    locals.add(I32),
    locals.add(I32),
    locals.add(I32),
    locals.add(I32),
  ];
  const code = new WasmCode();
  code.get(xPtr).set(source);
  code.get(outPtr).set(target);
  code.get(targetBytes).get(sliceBytes).sub().set(rest);
  code.loop(r, rows, 1, (row) => {
    row.i32(0).set(t);
    row.loop(t, times, 1, (copy) => {
      copy.i32(0).set(h);
      copy.loop(h, slices, 1, (slice) => {
        slice.get(target).get(source).get(h).get(sliceBytes).mul().add().get(sliceBytes).memoryCopy();
        slice.get(rest).when((fill) => fill.get(target).get(sliceBytes).add().i32(0).get(rest).memoryFill());
        slice.get(target).get(targetBytes).add().set(target);
      });
    });
    row.get(source).get(slices).get(sliceBytes).mul().add().set(source);
  });
  return { name: "repeatRows", params: [I32, I32, I32, I32, I32, I32, I32], locals: locals.types, code };
}

/** Every kernel of the package's SIMD module, generated with `options` (fused multiply-adds or not). */
export function simdKernelFunctions(options: CodeOptions = { fma: false }): WasmFunction[] {
  return [
    geluFunction(options),
    geluGradFunction(options),
    weightGradFunction(options),
    columnSumsFunction(),
    matmulFunction(options),
    layerNormFunction(options),
    layerNormGradFunction(options),
    attentionFunction(options),
    attentionGradFunction(options),
    cachedAttentionFunction(options),
    repeatRowsFunction(),
    adamFunction(),
    gatherRowsFunction(),
    scatterAddRowsFunction(),
    expFunction(options),
  ];
}
