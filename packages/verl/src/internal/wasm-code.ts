/**
 * A minimal WebAssembly binary writer for the package's SIMD kernels: function bodies are built with
 * {@link WasmCode} (one method per instruction used, operands LEB128-encoded), and `wasmModule`
 * (wasm-module.ts) wraps them in a module that imports its memory as `env.memory`. No toolchain is involved: the bytes are produced
 * at run time from this source.
 */

/** Value types of parameters and locals. */
export const I32 = 0x7f;
/** 32-bit float. */
export const F32 = 0x7d;
/** 128-bit SIMD vector. */
export const V128 = 0x7b;

/** A value type byte: {@link I32}, {@link F32} or {@link V128}. */
export type ValueType = typeof I32 | typeof F32 | typeof V128;

/** The unsigned LEB128 bytes of `value` (sizes, counts and indices in a module). */
export function unsignedLeb(value: number): number[] {
  const out: number[] = [];
  let rest = value >>> 0;
  do {
    let byte = rest & 0x7f;
    rest >>>= 7;
    if (rest !== 0) byte |= 0x80;
    out.push(byte);
  } while (rest !== 0);
  return out;
}

function signedLeb(value: number): number[] {
  const out: number[] = [];
  let rest = value | 0;
  for (;;) {
    const byte = rest & 0x7f;
    rest >>= 7;
    const done = (rest === 0 && (byte & 0x40) === 0) || (rest === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

function f32Bytes(value: number): number[] {
  return [...new Uint8Array(new Float32Array([value]).buffer)];
}

/** SIMD opcodes (after the 0xfd prefix) used by the kernels. */
const SIMD = {
  load: 0x00,
  load32Splat: 0x09,
  store: 0x0b,
  i32x4Splat: 0x11,
  splat: 0x13,
  extractLane: 0x1f,
  nearest: 0x6a,
  i32x4Shl: 0xab,
  i32x4Add: 0xae,
  gt: 0x44,
  and: 0x4e,
  abs: 0xe0,
  sqrt: 0xe3,
  neg: 0xe1,
  add: 0xe4,
  sub: 0xe5,
  mul: 0xe6,
  div: 0xe7,
  min: 0xe8,
  max: 0xe9,
  truncSat: 0xf8,
  pmin: 0xea,
  pmax: 0xeb,
  relaxedMadd: 0x105,
  relaxedNmadd: 0x106,
} as const;

/** How kernel bodies are generated. */
export interface CodeOptions {
  /**
   * Fuse each multiply-add into relaxed SIMD's `f32x4.relaxed_madd` (one rounding instead of two; on x86 with
   * FMA3 one instruction instead of two). The runtime must validate relaxed SIMD.
   */
  fma: boolean;
}

/** The instructions of one function body, appended in order. */
export class WasmCode {
  readonly bytes: number[] = [];
  /** Whether {@link WasmCode.mulAdd} emits a fused multiply-add. */
  readonly fma: boolean;

  constructor(options: CodeOptions = { fma: false }) {
    this.fma = options.fma;
  }

  private op(...bytes: number[]): this {
    this.bytes.push(...bytes);
    return this;
  }

  private simd(code: number, ...immediates: number[]): this {
    return this.op(0xfd, ...unsignedLeb(code), ...immediates);
  }

  /** `local.get`. */
  get(local: number): this {
    return this.op(0x20, ...unsignedLeb(local));
  }

  /** `local.set`. */
  set(local: number): this {
    return this.op(0x21, ...unsignedLeb(local));
  }

  /** `local.tee`. */
  tee(local: number): this {
    return this.op(0x22, ...unsignedLeb(local));
  }

  /** `i32.const`. */
  i32(value: number): this {
    return this.op(0x41, ...signedLeb(value));
  }

  /** `f32.const`. */
  f32(value: number): this {
    return this.op(0x43, ...f32Bytes(value));
  }

  /** `i32.add`. */
  add(): this {
    return this.op(0x6a);
  }

  /** `i32.sub`. */
  sub(): this {
    return this.op(0x6b);
  }

  /** `i32.mul`. */
  mul(): this {
    return this.op(0x6c);
  }

  /** `i32.shl`. */
  shl(): this {
    return this.op(0x74);
  }

  /** `i32.and`. */
  andI32(): this {
    return this.op(0x71);
  }

  /** `memory.copy` (destination, source, byte count on the stack). */
  memoryCopy(): this {
    return this.op(0xfc, 0x0a, 0x00, 0x00);
  }

  /** `memory.fill` (destination, byte value, byte count on the stack). */
  memoryFill(): this {
    return this.op(0xfc, 0x0b, 0x00);
  }

  /** `i32.shr_u`. */
  shrU(): this {
    return this.op(0x76);
  }

  /** `i32.lt_u`. */
  ltU(): this {
    return this.op(0x49);
  }

  /** `i32.gt_u`. */
  gtU(): this {
    return this.op(0x4b);
  }

  /** `i32.eqz`. */
  eqz(): this {
    return this.op(0x45);
  }

  /** `i32.load` at `offset` bytes past the address on the stack. */
  loadI32(offset = 0): this {
    return this.op(0x28, 2, ...unsignedLeb(offset));
  }

  /** `f32.load` at `offset` bytes past the address on the stack. */
  loadF32(offset = 0): this {
    return this.op(0x2a, 2, ...unsignedLeb(offset));
  }

  /** `f32.store`. */
  storeF32(offset = 0): this {
    return this.op(0x38, 2, ...unsignedLeb(offset));
  }

  /** `f32.add`. */
  addF32(): this {
    return this.op(0x92);
  }

  /** `f32.mul`. */
  mulF32(): this {
    return this.op(0x94);
  }

  /** `f32.sqrt`. */
  sqrtF32(): this {
    return this.op(0x91);
  }

  /** `f32.div`. */
  divF32(): this {
    return this.op(0x95);
  }

  /** `f32.max`. */
  maxF32(): this {
    return this.op(0x97);
  }

  /** `f32.sub`. */
  subF32(): this {
    return this.op(0x93);
  }

  /** `v128.load` (alignment hint 4 bytes: tensors are only float-aligned). */
  load(offset = 0): this {
    return this.simd(SIMD.load, 2, ...unsignedLeb(offset));
  }

  /** `v128.load32_splat`. */
  loadSplat(offset = 0): this {
    return this.simd(SIMD.load32Splat, 2, ...unsignedLeb(offset));
  }

  /** `v128.store`. */
  store(offset = 0): this {
    return this.simd(SIMD.store, 2, ...unsignedLeb(offset));
  }

  /** `f32x4.splat`. */
  splat(): this {
    return this.simd(SIMD.splat);
  }

  /** `i32x4.splat`. */
  isplat(): this {
    return this.simd(SIMD.i32x4Splat);
  }

  /** `f32x4.extract_lane`. */
  lane(index: number): this {
    return this.simd(SIMD.extractLane, index);
  }

  /** `f32x4.splat` of a constant. */
  splatConst(value: number): this {
    return this.f32(value).splat();
  }

  /** `f32x4.add`. */
  vadd(): this {
    return this.simd(SIMD.add);
  }

  /** `f32x4.sub`. */
  vsub(): this {
    return this.simd(SIMD.sub);
  }

  /** `f32x4.mul`. */
  vmul(): this {
    return this.simd(SIMD.mul);
  }

  /**
   * Pushes `a · b + c` for vectors: `addend` pushes c, `factors` pushes a then b (both free of side effects).
   * Fused (`f32x4.relaxed_madd`) when the code is generated with `fma`, else `f32x4.mul` then `f32x4.add`.
   */
  mulAdd(addend: (code: this) => void, factors: (code: this) => void): this {
    return this.mulThen(addend, factors, SIMD.relaxedMadd, SIMD.add);
  }

  /**
   * Pushes `c − a · b` for vectors: `minuend` pushes c, `factors` pushes a then b (both free of side effects).
   * Fused (`f32x4.relaxed_nmadd`) with `fma`, else `f32x4.mul` then `f32x4.sub`.
   */
  mulSub(minuend: (code: this) => void, factors: (code: this) => void): this {
    return this.mulThen(minuend, factors, SIMD.relaxedNmadd, SIMD.sub);
  }

  /**
   * {@link WasmCode.mulAdd} and {@link WasmCode.mulSub}: with `fma`, the factors, the other operand and the fused
   * instruction; else the other operand, the factors, `f32x4.mul` and the separate instruction.
   */
  private mulThen(
    other: (code: this) => void,
    factors: (code: this) => void,
    fused: number,
    separate: number,
  ): this {
    if (this.fma) {
      factors(this);
      other(this);
      return this.simd(fused);
    }
    other(this);
    factors(this);
    return this.vmul().simd(separate);
  }

  /** Replaces the vector v on the stack by `v · factor + addend` (locals), fused as {@link WasmCode.mulAdd}. */
  thenMulAdd(factor: number, addend: number): this {
    if (this.fma) return this.get(factor).get(addend).simd(SIMD.relaxedMadd);
    return this.get(factor).vmul().get(addend).vadd();
  }

  /** `f32x4.sqrt`. */
  vsqrt(): this {
    return this.simd(SIMD.sqrt);
  }

  /** `f32x4.div`. */
  vdiv(): this {
    return this.simd(SIMD.div);
  }

  /** `f32x4.gt` (all-ones lanes where the first operand is greater). */
  vgt(): this {
    return this.simd(SIMD.gt);
  }

  /** `v128.and`. */
  vand(): this {
    return this.simd(SIMD.and);
  }

  /** `f32x4.min`. */
  vmin(): this {
    return this.simd(SIMD.min);
  }

  /** `f32x4.max`. */
  vmax(): this {
    return this.simd(SIMD.max);
  }

  /**
   * `f32x4.pmin` (`b < a ? b : a`): one `minps` on x86, where `f32x4.min`'s NaN and signed-zero rules cost a
   * sequence of instructions. For clamps and maxima of values that are never NaN.
   */
  vpmin(): this {
    return this.simd(SIMD.pmin);
  }

  /** `f32x4.pmax` (`a < b ? b : a`): one `maxps` on x86; see {@link WasmCode.vpmin}. */
  vpmax(): this {
    return this.simd(SIMD.pmax);
  }

  /** `f32x4.neg`. */
  vneg(): this {
    return this.simd(SIMD.neg);
  }

  /** `f32x4.nearest`. */
  vnearest(): this {
    return this.simd(SIMD.nearest);
  }

  /** `i32x4.trunc_sat_f32x4_s`. */
  vtruncToInt(): this {
    return this.simd(SIMD.truncSat);
  }

  /** `i32x4.add`. */
  viadd(): this {
    return this.simd(SIMD.i32x4Add);
  }

  /** `i32x4.shl` by the i32 on the stack. */
  vishl(): this {
    return this.simd(SIMD.i32x4Shl);
  }

  /**
   * A counted loop: `counter` runs from its current value while `counter < limit` (unsigned), stepping by
   * `step`; `body` is emitted inside. The body runs at least once, so callers check the range first.
   */
  loop(counter: number, limit: number, step: number, body: (code: this) => void): this {
    this.op(0x03, 0x40); // loop (no result)
    body(this);
    this.get(counter).i32(step).add().tee(counter).get(limit).ltU();
    this.op(0x0d, 0); // br_if 0
    return this.op(0x0b); // end
  }

  /** As {@link WasmCode.loop}, stepping by the value of the local `stepLocal`. */
  loopBy(counter: number, limit: number, stepLocal: number, body: (code: this) => void): this {
    this.op(0x03, 0x40);
    body(this);
    this.get(counter).get(stepLocal).add().tee(counter).get(limit).ltU();
    this.op(0x0d, 0);
    return this.op(0x0b);
  }

  /** Runs `body` only when the i32 on the stack is non-zero. */
  when(body: (code: this) => void): this {
    this.op(0x04, 0x40);
    body(this);
    return this.op(0x0b);
  }
}

/** One exported function: its name, parameter types, extra locals (by type) and body. */
export interface WasmFunction {
  name: string;
  params: ValueType[];
  locals: ValueType[];
  code: WasmCode;
}
