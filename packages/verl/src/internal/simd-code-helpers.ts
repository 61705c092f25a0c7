import { V128, type ValueType, type WasmCode } from "./wasm-code.js";

/* Building blocks shared by the SIMD kernels' code: locals, hoisted constants, exp, lane reductions. */

/** Local indices handed out in order after the parameters. */
export class Locals {
  readonly types: ValueType[] = [];
  constructor(private readonly params: number) {}
  add(type: ValueType): number {
    this.types.push(type);
    return this.params + this.types.length - 1;
  }
}

/** Vector constants held in locals, set once before a kernel's loop (V8 does not hoist splats out of loops). */
export class Constants {
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

export const EXP_COEFFICIENTS = [1 / 720, 1 / 120, 1 / 24, 1 / 6, 1 / 2, 1, 1];
/** Below this argument {@link pushExp} with `flush` returns exactly 0 (e^-30 ≈ 1e-13: never a subnormal later). */
const FLUSH_BELOW = -30;

/**
 * `2²³ + 2²²`: added to `x · log₂e` (|x · log₂e| < 2²²) it rounds to the nearest integer n (ties to even, as
 * `f32x4.nearest`: the constant is even) and leaves n in the low bits of the float, so `(bits + 127) << 23` is the
 * float 2ⁿ (the constant's own bits are shifted out).
 */
const EXP_MAGIC = 12582912;

const EXP_CONSTANTS = [
  FLUSH_BELOW,
  1,
  -87,
  87,
  Math.LOG2E,
  EXP_MAGIC,
  0.693359375,
  -2.1219444e-4,
  ...EXP_COEFFICIENTS,
];

/** Locals of {@link pushExp}: three scratch vectors and the exponent bias 127 as an i32x4. */
export interface ExpScratch {
  t: number;
  n: number;
  r: number;
  bias: number;
}

/** Allocates {@link ExpScratch} and emits its constants (before the kernel's loops). */
export function expScratch(locals: Locals, code: WasmCode, constants: Constants): ExpScratch {
  for (const value of EXP_CONSTANTS) constants.of(value);
  const bias = locals.add(V128);
  code.i32(127).isplat().set(bias);
  return { t: locals.add(V128), n: locals.add(V128), r: locals.add(V128), bias };
}

/**
 * Pushes `exp(x)` for the vector in local `x`: range reduction (`2ⁿ · e^r`, |r| ≤ ln2/2) with a degree-6
 * polynomial (relative error ~2e-7), the argument clamped to ±87 so that 2ⁿ stays a normal float; with `flush`,
 * exactly 0 below −30. n and 2ⁿ come from one addition of {@link EXP_MAGIC} (no float-to-int conversion, whose
 * saturating form is a long instruction sequence in V8), the clamp from `pmin`/`pmax` (single instructions).
 */
export function pushExp(code: WasmCode, x: number, k: Constants, s: ExpScratch, flush = false): void {
  const { t, n, r } = s;
  // With flush, lanes of x below FLUSH_BELOW give 0: softmax weights of masked keys would otherwise be
  // subnormal floats, whose arithmetic is ~100× slower on x86.
  if (flush) code.get(x).get(k.of(FLUSH_BELOW)).vgt();
  code.get(x).get(k.of(-87)).vpmax().get(k.of(87)).vpmin().set(t);
  // n = (t · log₂e + magic) − magic; the sum's bits (kept in local `n` until then) give 2ⁿ.
  code.mulAdd(
    (add) => add.get(k.of(EXP_MAGIC)),
    (factors) => factors.get(t).get(k.of(Math.LOG2E)),
  );
  code.set(n);
  code.get(n).get(k.of(EXP_MAGIC)).vsub().set(r);
  // r = t − n · ln2 (in two parts, Cody–Waite); 2ⁿ into n.
  code
    .mulSub(
      (c) => c.get(t),
      (f) => f.get(r).get(k.of(0.693359375)),
    )
    .set(t);
  code.get(n).get(s.bias).viadd().i32(23).vishl().set(n);
  code
    .mulSub(
      (c) => c.get(t),
      (f) => f.get(r).get(k.of(-2.1219444e-4)),
    )
    .set(r);
  code.get(k.of(EXP_COEFFICIENTS[0]!));
  for (const coefficient of EXP_COEFFICIENTS.slice(1)) code.thenMulAdd(r, k.of(coefficient));
  code.get(n).vmul();
  if (flush) code.vand();
}

/** Pushes the sum of the 4 lanes of the vector in local `v` (an f32). */
export function pushLaneSum(code: WasmCode, v: number): void {
  code.get(v).lane(0).get(v).lane(1).addF32().get(v).lane(2).addF32().get(v).lane(3).addF32();
}

/** Pushes the largest lane of the vector in local `v`. */
export function pushLaneMax(code: WasmCode, v: number): void {
  code.get(v).lane(0).get(v).lane(1).maxF32().get(v).lane(2).maxF32().get(v).lane(3).maxF32();
}

/** Locals of {@link emitSoftmaxWeights}: vectors of lane-wise maxima, sums, and two scratch vectors. */
export interface SoftmaxScratch {
  maxV: number;
  sumV: number;
  raw: number;
  e: number;
}

/**
 * The softmax pass over the row of `bytes` bytes at local `row`, whose lane-wise maxima are in `s.maxV`: each
 * entry x becomes `exp(x − max)` (flushed to 0 below −30), unnormalised, and every lane of `s.sumV` is left
 * holding `1 / Σ exp(x − max)`. `index` is the loop counter.
 */
export function emitSoftmaxWeights(
  code: WasmCode,
  row: { base: number; index: number; bytes: number },
  k: Constants,
  exp: ExpScratch,
  s: SoftmaxScratch,
): void {
  const { base, index, bytes } = row;
  pushLaneMax(code, s.maxV);
  code.splat().set(s.maxV);
  code.splatConst(0).set(s.sumV);
  code.i32(0).set(index);
  code.loop(index, bytes, 16, (lane) => {
    lane.get(base).get(index).add().load().get(s.maxV).vsub().set(s.raw);
    pushExp(lane, s.raw, k, exp, true);
    lane.set(s.e);
    lane.get(base).get(index).add().get(s.e).store();
    lane.get(s.sumV).get(s.e).vadd().set(s.sumV);
  });
  code.f32(1);
  pushLaneSum(code, s.sumV);
  code.divF32().splat().set(s.sumV);
}
