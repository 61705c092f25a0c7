import type { Locals } from "./simd-code-helpers.js";
import { I32, V128, type WasmCode } from "./wasm-code.js";

/*
 * The small products of the attention kernels (`attention-kernel-code.ts`): per sequence and head, `[L, hs]` and
 * `[L, L]` slices of larger matrices multiplied in 4 × 8 register tiles, and the transposed copy of a head slice.
 */

/** Local indices of an {@link emitProduct} call: base pointers and strides (bytes), counts. */
export interface ProductSpec {
  /** First row of the left operand, its row stride and the step between its elements along the reduction. */
  a: number;
  aRowStride: number;
  aStep: number;
  /** First row of the right operand and its row stride (its rows are read as vectors). */
  m: number;
  mRowStride: number;
  /** First output row and its stride. */
  out: number;
  outRowStride: number;
  /** Output rows, reduction length (element counts) and output row width in bytes (a multiple of 32). */
  rows: number;
  inner: number;
  width: number;
  /**
   * Which part of a causal `[L, L]` operand is computed or read, for output row block r (rows r … r + 3):
   * `scores`, columns below the next multiple of 8 above r + 3 only (the rest of the output is left unwritten);
   * `lower`, the reduction stops after t = r + 3 (the left operand is 0 beyond); `upper`, it starts at t = r
   * (0 before). Skipped terms are exact zeros, so each computed output is the same sum.
   */
  triangle?: "scores" | "lower" | "upper";
}

/** Scratch locals of {@link emitProduct}. */
export interface ProductScratch {
  r: number;
  cv: number;
  ap: number;
  apEnd: number;
  mp: number;
  aRow: number;
  outRow: number;
  /** Two and three row strides of the left operand, and the output pointer of the row being stored. */
  a2: number;
  a3: number;
  op: number;
  splat: number;
  /** The two vectors of the right operand's row, and the 4 × 2 accumulators (row r: `acc[2r]`, `acc[2r + 1]`). */
  m0: number;
  m1: number;
  acc: number[];
  /** The byte width of the columns computed for the current row block (`scores`). */
  limit: number;
}

export function productScratch(locals: Locals): ProductScratch {
  const int = () => locals.add(I32);
  return {
    r: int(),
    cv: int(),
    ap: int(),
    apEnd: int(),
    mp: int(),
    aRow: int(),
    outRow: int(),
    a2: int(),
    a3: int(),
    op: int(),
    splat: locals.add(V128),
    m0: locals.add(V128),
    m1: locals.add(V128),
    acc: Array.from({ length: 8 }, () => locals.add(V128)),
    limit: locals.add(I32),
  };
}

/**
 * `out[r, :] = Σₜ a[r, t] · m[t, :]` for r < rows (a multiple of 4), t < inner: a 4 × 8 register tile — four rows
 * of `a` broadcast against two vectors of a row of `m` — so that eight independent accumulations are in flight
 * (two would wait on the multiply-add latency). Each output still sums over t in order.
 */
export function emitProduct(code: WasmCode, spec: ProductSpec, s: ProductScratch): void {
  const strides = [spec.aRowStride, s.a2, s.a3];
  const { triangle } = spec;
  code.get(spec.aRowStride).get(spec.aRowStride).add().set(s.a2);
  code.get(s.a2).get(spec.aRowStride).add().set(s.a3);
  code.i32(0).set(s.r);
  code.get(spec.a).set(s.aRow);
  code.get(spec.out).set(s.outRow);
  code.loop(s.r, spec.rows, 4, (row) => {
    row.i32(0).set(s.cv);
    // scores: (r + 4) rounded up to a multiple of 8 columns, in bytes.
    if (triangle === "scores") row.get(s.r).i32(11).add().i32(-8).andI32().i32(2).shl().set(s.limit);
    row.loop(s.cv, triangle === "scores" ? s.limit : spec.width, 32, (column) => {
      for (const acc of s.acc) column.splatConst(0).set(acc);
      column.get(spec.m).get(s.cv).add().set(s.mp);
      column.get(s.aRow).set(s.ap);
      if (triangle === "upper") {
        column.get(s.ap).get(s.r).get(spec.aStep).mul().add().set(s.ap);
        column.get(s.mp).get(s.r).get(spec.mRowStride).mul().add().set(s.mp);
      }
      const steps = triangle === "lower" ? column.get(s.r).i32(4).add() : column.get(spec.inner);
      steps.get(spec.aStep).mul().get(s.aRow).add().set(s.apEnd);
      column.loopBy(s.ap, s.apEnd, spec.aStep, (step) => {
        step.get(s.mp).load().set(s.m0);
        step.get(s.mp).load(16).set(s.m1);
        for (let r = 0; r < 4; r++) {
          step.get(s.ap);
          if (r > 0) step.get(strides[r - 1]!).add();
          step.loadSplat().set(s.splat);
          [s.m0, s.m1].forEach((m, c) => {
            const acc = s.acc[2 * r + c]!;
            step
              .mulAdd(
                (add) => add.get(acc),
                (factors) => factors.get(s.splat).get(m),
              )
              .set(acc);
          });
        }
        step.get(s.mp).get(spec.mRowStride).add().set(s.mp);
      });
      column.get(s.outRow).get(s.cv).add().set(s.op);
      for (let r = 0; r < 4; r++) {
        if (r > 0) column.get(s.op).get(spec.outRowStride).add().set(s.op);
        column
          .get(s.op)
          .get(s.acc[2 * r]!)
          .store();
        column
          .get(s.op)
          .get(s.acc[2 * r + 1]!)
          .store(16);
      }
    });
    row.get(s.aRow).get(s.a3).add().get(spec.aRowStride).add().set(s.aRow);
    row.get(s.outRow).get(spec.outRowStride).i32(2).shl().add().set(s.outRow);
  });
}

/** Copies the `[L, hs]` slice at `source` (row stride `rowBytes`) to `target` as `[hs, L]` (scalar loop). */
export function emitTransposeSlice(
  code: WasmCode,
  l: { source: number; target: number; rowBytes: number; lengthBytes: number; headBytes: number },
  s: { j: number; c: number; from: number },
): void {
  code.i32(0).set(s.j);
  code.loop(s.j, l.lengthBytes, 4, (row) => {
    row.get(l.source).get(s.j).i32(2).shrU().get(l.rowBytes).mul().add().set(s.from);
    row.i32(0).set(s.c);
    row.loop(s.c, l.headBytes, 4, (element) => {
      element.get(l.target).get(s.c).i32(2).shrU().get(l.lengthBytes).mul().add().get(s.j).add();
      element.get(s.from).get(s.c).add().loadF32();
      element.storeF32();
    });
  });
}
