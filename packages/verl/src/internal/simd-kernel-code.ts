import { F32, I32, V128, type ValueType, WasmCode, type WasmFunction } from "./wasm-code.js";

/*
 * The bodies of the package's wasm SIMD kernels. Pointers are byte addresses in the tfjs wasm backend's memory;
 * sizes are element counts. Every kernel handles whole vectors of 4 floats only: the callers check the shapes.
 */

const C = Math.sqrt(2 / Math.PI);
const A = 0.044715;
/** Rows of a weight-gradient block: its slices of x and dy stay in the first-level cache. */
const BLOCK_ROWS = 128;

/** Local indices handed out in order after the parameters. */
class Locals {
  readonly types: ValueType[] = [];
  constructor(private readonly params: number) {}
  add(type: ValueType): number {
    this.types.push(type);
    return this.params + this.types.length - 1;
  }
}

/** Vector constants held in locals, set once before a kernel's loop (V8 does not hoist splats out of loops). */
class Constants {
  private readonly byValue = new Map<number, number>();
  constructor(
    private readonly locals: Locals,
    private readonly code: WasmCode,
  ) {}
  /** The local holding `value` in every lane (emitted at first use, which must be before the loop). */
  of(value: number): number {
    let local = this.byValue.get(value);
    if (local === undefined) {
      local = this.locals.add(V128);
      this.code.splatConst(value).set(local);
      this.byValue.set(value, local);
    }
    return local;
  }
}

const EXP_COEFFICIENTS = [1 / 720, 1 / 120, 1 / 24, 1 / 6, 1 / 2, 1, 1];
const EXP_CONSTANTS = [1, -87, 87, Math.LOG2E, 0.693359375, -2.1219444e-4, ...EXP_COEFFICIENTS];

/** Locals of {@link pushSigmoid}: three scratch vectors and the exponent bias `127 << 0` as an i32x4. */
interface SigmoidScratch {
  t: number;
  n: number;
  r: number;
  bias: number;
}

function sigmoidScratch(locals: Locals, code: WasmCode, constants: Constants): SigmoidScratch {
  for (const value of EXP_CONSTANTS) constants.of(value);
  const bias = locals.add(V128);
  code.i32(127).isplat().set(bias);
  return { t: locals.add(V128), n: locals.add(V128), r: locals.add(V128), bias };
}

/**
 * Pushes `1 / (1 + exp(-z))` for the vector in local `z`: exp by range reduction (`2ⁿ · e^r`, |r| ≤ ln2/2) with
 * a degree-6 polynomial (relative error ~2e-7), the argument clamped to ±87 so that 2ⁿ stays a normal float.
 */
function pushSigmoid(code: WasmCode, z: number, k: Constants, s: SigmoidScratch): void {
  const { t, n, r } = s;
  code.get(k.of(1));
  code.get(z).vneg().get(k.of(-87)).vmax().get(k.of(87)).vmin().set(t);
  code.get(t).get(k.of(Math.LOG2E)).vmul().vnearest().set(n);
  code
    .get(t)
    .get(n)
    .get(k.of(0.693359375))
    .vmul()
    .vsub()
    .get(n)
    .get(k.of(-2.1219444e-4))
    .vmul()
    .vsub()
    .set(r);
  code.get(k.of(EXP_COEFFICIENTS[0]!));
  for (const coefficient of EXP_COEFFICIENTS.slice(1)) code.get(r).vmul().get(k.of(coefficient)).vadd();
  code.get(n).vtruncToInt().get(s.bias).viadd().i32(23).vishl().vmul();
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
function geluFunction(): WasmFunction {
  const [xPtr, outPtr, count] = [0, 1, 2];
  const locals = new Locals(3);
  const [i, end, x, z] = [locals.add(I32), locals.add(I32), locals.add(V128), locals.add(V128)];
  const code = new WasmCode();
  const k = new Constants(locals, code);
  const scratch = sigmoidScratch(locals, code, k);
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

/** `geluGrad(x, dy, out, count)`: `out = dy · (σ + x·σ(1 − σ)·(2c + 6ca·x²))` with σ = σ(z) as in `gelu`. */
function geluGradFunction(): WasmFunction {
  const [xPtr, dyPtr, outPtr, count] = [0, 1, 2, 3];
  const locals = new Locals(4);
  const [i, end, x, z, s] = [
    locals.add(I32),
    locals.add(I32),
    locals.add(V128),
    locals.add(V128),
    locals.add(V128),
  ];
  const code = new WasmCode();
  const k = new Constants(locals, code);
  const scratch = sigmoidScratch(locals, code, k);
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
 * `weightGrad(x, dy, out, bias, n, k, m)`: `out [k, m] = xᵀ @ dy` for row-major `x [n, k]`, `dy [n, m]`
 * (k a multiple of 4, m of 8), read in place — no transposed or packed copies — in blocks of rows, each
 * accumulated into 4×8 register tiles; and, when `bias` is not 0, `bias [m] = Σₙ dy[n, :]`.
 */
function weightGradFunction(): WasmFunction {
  const [xPtr, dyPtr, outPtr, biasPtr, rows, k, m] = [0, 1, 2, 3, 4, 5, 6];
  const locals = new Locals(7);
  const int = () => locals.add(I32);
  const [xRow, dRow, total, start, stop, i, j] = [int(), int(), int(), int(), int(), int(), int()];
  const [xp, dp, dEnd, op, p] = [int(), int(), int(), int(), int()];
  const acc = Array.from({ length: 8 }, () => locals.add(V128));
  const [b0, b1, a] = [locals.add(V128), locals.add(V128), locals.add(V128)];
  const code = new WasmCode();
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
        for (let r = 0; r < 4; r++) {
          for (let c = 0; c < 2; c++) {
            tile
              .get(op)
              .get(dRow)
              .i32(r)
              .mul()
              .add()
              .load(16 * c)
              .set(acc[2 * r + c]!);
          }
        }
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
            row
              .get(acc[2 * r]!)
              .get(a)
              .get(b0)
              .vmul()
              .vadd()
              .set(acc[2 * r]!);
            row
              .get(acc[2 * r + 1]!)
              .get(a)
              .get(b1)
              .vmul()
              .vadd()
              .set(acc[2 * r + 1]!);
          }
          row.get(xp).get(xRow).add().set(xp);
        });
        for (let r = 0; r < 4; r++) {
          for (let c = 0; c < 2; c++) {
            tile
              .get(op)
              .get(dRow)
              .i32(r)
              .mul()
              .add()
              .get(acc[2 * r + c]!)
              .store(16 * c);
          }
        }
      });
    });
  });
  code.get(biasPtr).when((bias) => emitColumnSums(bias, dyPtr, biasPtr, rows, dRow, { p, dp, dEnd }));
  return { name: "weightGrad", params: [I32, I32, I32, I32, I32, I32, I32], locals: locals.types, code };
}

/**
 * `matmul(a, b, bias, out, n, k, m)`: `out [n, m] = a [n, k] @ b [k, m] (+ bias [m] when bias is not 0)`, all
 * row-major, n a multiple of 4 and m of 8: 4×8 register tiles accumulated over k, `b` read in place (XNNPACK
 * packs a new right operand on every call, which costs as much as the product at these sizes).
 */
function matmulFunction(): WasmFunction {
  const [aPtr, bPtr, biasPtr, outPtr, rows, k, m] = [0, 1, 2, 3, 4, 5, 6];
  const locals = new Locals(7);
  const int = () => locals.add(I32);
  const [aRow, bRow, row, j, ap, bp, bEnd, op] = [int(), int(), int(), int(), int(), int(), int(), int()];
  const [aRow2, aRow3] = [int(), int()];
  const acc = Array.from({ length: 8 }, () => locals.add(V128));
  const [b0, b1, a] = [locals.add(V128), locals.add(V128), locals.add(V128)];
  const code = new WasmCode();
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
          step
            .get(acc[2 * r]!)
            .get(a)
            .get(b0)
            .vmul()
            .vadd()
            .set(acc[2 * r]!);
          step
            .get(acc[2 * r + 1]!)
            .get(a)
            .get(b1)
            .vmul()
            .vadd()
            .set(acc[2 * r + 1]!);
        }
        step.get(ap).i32(4).add().set(ap);
      });
      tile.get(outPtr).get(row).get(m).mul().get(j).add().i32(2).shl().add().set(op);
      for (let r = 0; r < 4; r++) {
        for (let c = 0; c < 2; c++) {
          tile
            .get(op)
            .get(bRow)
            .i32(r)
            .mul()
            .add()
            .get(acc[2 * r + c]!)
            .store(16 * c);
        }
      }
    });
  });
  return { name: "matmul", params: [I32, I32, I32, I32, I32, I32, I32], locals: locals.types, code };
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

/** Pushes the sum of the 4 lanes of the vector in local `v` (an f32). */
function pushLaneSum(code: WasmCode, v: number): void {
  code.get(v).lane(0).get(v).lane(1).addF32().get(v).lane(2).addF32().get(v).lane(3).addF32();
}

/**
 * `layerNorm(x, gain, bias, out, xHat, rstd, n, d, invD, eps)`: each row of `x [n, d]` (d a multiple of 4)
 * normalised, `out = x̂ · gain + bias` with `x̂ = (x − mean) · rstd`, `rstd = 1 / √(var + eps)`; `x̂ [n, d]` and
 * `rstd [n]` are written too when their pointers are not 0 (what the gradient needs).
 */
function layerNormFunction(): WasmFunction {
  const [xPtr, gainPtr, biasPtr, outPtr, xHatPtr, rstdPtr, rows, d, invD, epsilon] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
  ];
  const locals = new Locals(10);
  const int = () => locals.add(I32);
  const [rowBytes, end, ro, p, rp] = [int(), int(), int(), int(), int()];
  const [sum, meanV, rstdV, centred, xHat] = [
    locals.add(V128),
    locals.add(V128),
    locals.add(V128),
    locals.add(V128),
    locals.add(V128),
  ];
  const rstd = locals.add(F32);
  const code = new WasmCode();
  code.get(d).i32(2).shl().set(rowBytes);
  code.get(rows).get(rowBytes).mul().set(end);
  code.get(rstdPtr).set(rp);
  code.loop(ro, end, 0, (row) => {
    row.splatConst(0).set(sum);
    row.i32(0).set(p);
    row.loop(p, rowBytes, 16, (lane) => {
      lane.get(sum).get(xPtr).get(ro).add().get(p).add().load().vadd().set(sum);
    });
    pushLaneSum(row, sum);
    row.get(invD).mulF32().splat().set(meanV);
    row.splatConst(0).set(sum);
    row.i32(0).set(p);
    row.loop(p, rowBytes, 16, (lane) => {
      lane.get(xPtr).get(ro).add().get(p).add().load().get(meanV).vsub().set(centred);
      lane.get(sum).get(centred).get(centred).vmul().vadd().set(sum);
    });
    row.f32(1);
    pushLaneSum(row, sum);
    row.get(invD).mulF32().get(epsilon).addF32().sqrtF32().divF32().set(rstd);
    row.get(rstdPtr).when((save) => {
      save.get(rp).get(rstd).storeF32();
      save.get(rp).i32(4).add().set(rp);
    });
    row.get(rstd).splat().set(rstdV);
    row.i32(0).set(p);
    row.loop(p, rowBytes, 16, (lane) => {
      lane.get(xPtr).get(ro).add().get(p).add().load().get(meanV).vsub().get(rstdV).vmul().set(xHat);
      lane.get(xHatPtr).when((save) => {
        save.get(xHatPtr).get(ro).add().get(p).add().get(xHat).store();
      });
      lane.get(outPtr).get(ro).add().get(p).add();
      lane.get(xHat).get(gainPtr).get(p).add().load().vmul().get(biasPtr).get(p).add().load().vadd();
      lane.store();
    });
    // Next row: the loop helper steps by a constant, so the row size is added here (step 0 above).
    row.get(ro).get(rowBytes).add().set(ro);
  });
  return {
    name: "layerNorm",
    params: [I32, I32, I32, I32, I32, I32, I32, I32, F32, F32],
    locals: locals.types,
    code,
  };
}

/**
 * `layerNormGrad(xHat, rstd, gain, dy, dx, dGain, dBias, n, d, invD)`: the gradient of {@link layerNormFunction}
 * from its saved `x̂` and `rstd`: `dx = rstd · (ĝ − mean(ĝ) − x̂ · mean(ĝ · x̂))` with `ĝ = dy · gain`,
 * `dGain = Σₙ dy · x̂`, `dBias = Σₙ dy`, in one pass over the rows.
 */
function layerNormGradFunction(): WasmFunction {
  const [xHatPtr, rstdPtr, gainPtr, dyPtr, dxPtr, dGainPtr, dBiasPtr, rows, d, invD] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
  ];
  const locals = new Locals(10);
  const int = () => locals.add(I32);
  const [rowBytes, end, ro, p, rp] = [int(), int(), int(), int(), int()];
  const vec = () => locals.add(V128);
  const [sumG, sumGx, meanG, meanGx, rstdV, g, dy, xHat] = [
    vec(),
    vec(),
    vec(),
    vec(),
    vec(),
    vec(),
    vec(),
    vec(),
  ];
  const code = new WasmCode();
  code.get(d).i32(2).shl().set(rowBytes);
  code.get(rows).get(rowBytes).mul().set(end);
  code.loop(p, rowBytes, 16, (zero) => {
    zero.get(dGainPtr).get(p).add().splatConst(0).store();
    zero.get(dBiasPtr).get(p).add().splatConst(0).store();
  });
  code.get(rstdPtr).set(rp);
  code.loop(ro, end, 0, (row) => {
    row.splatConst(0).set(sumG);
    row.splatConst(0).set(sumGx);
    row.i32(0).set(p);
    row.loop(p, rowBytes, 16, (lane) => {
      lane.get(dyPtr).get(ro).add().get(p).add().load().get(gainPtr).get(p).add().load().vmul().set(g);
      lane.get(sumG).get(g).vadd().set(sumG);
      lane.get(sumGx).get(g).get(xHatPtr).get(ro).add().get(p).add().load().vmul().vadd().set(sumGx);
    });
    pushLaneSum(row, sumG);
    row.get(invD).mulF32().splat().set(meanG);
    pushLaneSum(row, sumGx);
    row.get(invD).mulF32().splat().set(meanGx);
    row.get(rp).loadF32().splat().set(rstdV);
    row.get(rp).i32(4).add().set(rp);
    row.i32(0).set(p);
    row.loop(p, rowBytes, 16, (lane) => {
      lane.get(dyPtr).get(ro).add().get(p).add().load().set(dy);
      lane.get(xHatPtr).get(ro).add().get(p).add().load().set(xHat);
      lane.get(dxPtr).get(ro).add().get(p).add();
      lane.get(dy).get(gainPtr).get(p).add().load().vmul().get(meanG).vsub();
      lane.get(xHat).get(meanGx).vmul().vsub().get(rstdV).vmul().store();
      lane.get(dGainPtr).get(p).add();
      lane.get(dGainPtr).get(p).add().load().get(dy).get(xHat).vmul().vadd().store();
      lane.get(dBiasPtr).get(p).add();
      lane.get(dBiasPtr).get(p).add().load().get(dy).vadd().store();
    });
    row.get(ro).get(rowBytes).add().set(ro);
  });
  return {
    name: "layerNormGrad",
    params: [I32, I32, I32, I32, I32, I32, I32, I32, I32, F32],
    locals: locals.types,
    code,
  };
}

/** Every kernel of the package's SIMD module. */
export function simdKernelFunctions(): WasmFunction[] {
  return [
    geluFunction(),
    geluGradFunction(),
    weightGradFunction(),
    columnSumsFunction(),
    matmulFunction(),
    layerNormFunction(),
    layerNormGradFunction(),
  ];
}
