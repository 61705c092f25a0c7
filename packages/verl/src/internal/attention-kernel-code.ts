import {
  emitProduct,
  emitTransposeSlice,
  type ProductScratch,
  productScratch,
} from "./attention-product-code.js";
import { Constants, emitSoftmaxWeights, expScratch, Locals, pushLaneSum } from "./simd-code-helpers.js";
import {
  type CodeOptions,
  F32,
  I32,
  V128,
  type ValueType,
  WasmCode,
  type WasmFunction,
} from "./wasm-code.js";

/*
 * Causal self-attention of whole sequences as two wasm SIMD kernels (forward, gradient) that read the queries,
 * keys and values where the projections left them — `[B·L, d]`, heads side by side — so that no head split,
 * transpose or batched-product re-layout is made. Per (sequence, head): scores `S = scale · Q Kᵀ + bias`, row
 * softmax `P`, context `P V`; the gradient from the saved `P`. Sizes: head size a multiple of 8, length of 8.
 * Causal: for each block of 4 query rows only the keys up to the block's last row (rounded up to 8) are scored,
 * and the products stop at the diagonal (the weights past it are exact zeros, so the sums are the same).
 */

/** Local indices shared by the per-head passes of the attention kernels: sizes, byte strides, counters, scratch. */
interface HeadLayout {
  heads: number;
  length: number;
  headSize: number;
  probsPtr: number;
  scratch: number;
  rowBytes: number;
  lengthBytes: number;
  headBytes: number;
  four: number;
  b: number;
  h: number;
  transpose: { j: number; c: number; from: number };
  product: ProductScratch;
}

/** Sets the layout's byte strides and `scaleV` to `scale` in every lane (before the loops). */
function emitStrides(code: WasmCode, l: HeadLayout, scale: number, scaleV: number): void {
  code.get(l.heads).get(l.headSize).mul().i32(2).shl().set(l.rowBytes);
  code.get(l.length).i32(2).shl().set(l.lengthBytes);
  code.get(l.headSize).i32(2).shl().set(l.headBytes);
  code.i32(4).set(l.four);
  code.get(scale).splat().set(scaleV);
}

/**
 * For head h of sequence b: each `[base, pointer]` pair sets `pointer` to the head's columns of the `[B·L, d]`
 * matrix at `base`, and `pBase` to the head's `[L, L]` block of the probabilities.
 */
function emitHeadPointers(
  code: WasmCode,
  l: HeadLayout,
  headOffset: number,
  pointers: ReadonlyArray<readonly [number, number]>,
  pBase: number,
): void {
  code
    .get(l.b)
    .get(l.length)
    .mul()
    .get(l.rowBytes)
    .mul()
    .get(l.h)
    .get(l.headBytes)
    .mul()
    .add()
    .set(headOffset);
  for (const [base, pointer] of pointers) code.get(base).get(headOffset).add().set(pointer);
  code.get(l.b).get(l.heads).mul().get(l.h).add().get(l.length).mul().get(l.lengthBytes).mul();
  code.get(l.probsPtr).add().set(pBase);
}

/** `out [L, L] = a · mᵀ` for head slices `a, m [L, hs]` of `[B·L, d]` matrices: `m` is transposed into scratch first. */
function emitScores(code: WasmCode, l: HeadLayout, a: number, m: number, out: number): void {
  const { rowBytes, lengthBytes, headBytes } = l;
  emitTransposeSlice(code, { source: m, target: l.scratch, rowBytes, lengthBytes, headBytes }, l.transpose);
  emitProduct(
    code,
    {
      a,
      aRowStride: rowBytes,
      aStep: l.four,
      m: l.scratch,
      mRowStride: lengthBytes,
      out,
      outRowStride: lengthBytes,
      rows: l.length,
      inner: l.headSize,
      width: lengthBytes,
      triangle: "scores",
    },
    l.product,
  );
}

/**
 * Sets `limit` to the byte width of the columns that row `i` of a causal `[L, L]` block has computed: those of its
 * block of 4 rows in {@link emitScores}, `(i − i mod 4) + 4` rounded up to a multiple of 8 (keys past the row are
 * masked, their weights exact zeros).
 */
function emitRowLimit(code: WasmCode, i: number, limit: number): void {
  code.get(i).i32(-4).andI32().i32(11).add().i32(-8).andI32().i32(2).shl().set(limit);
}

/**
 * `attention(q, k, v, bias, out, probs, scratch, B, H, L, hs, biasStride, scale)`: for every sequence b and head
 * h, `probs[b, h] = softmax(scale · Q Kᵀ + bias[b])` (`[L, L]`, saved for the gradient) and the context rows
 * `out = probs[b, h] · V`, with Q, K, V, out the head's columns of `[B·L, d]` matrices. `bias` is `[L, L]` per
 * sequence, `biasStride` bytes apart (0: one shared); `scratch` holds `hs · L` floats.
 */
export function attentionFunction(options: CodeOptions): WasmFunction {
  const params: ValueType[] = [I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, F32];
  const [qPtr, kPtr, vPtr, biasPtr, outPtr, probsPtr, scratch, batch, heads, length, headSize] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
  ];
  const [biasStride, scale] = [11, 12];
  const locals = new Locals(params.length);
  const int = () => locals.add(I32);
  const [rowBytes, lengthBytes, headBytes, b, h, headOffset] = [int(), int(), int(), int(), int(), int()];
  const [qh, kh, vh, oh, pBase, biasBase] = [int(), int(), int(), int(), int(), int()];
  const [i, jv, prow, brow, j, c, from, four] = [int(), int(), int(), int(), int(), int(), int(), int()];
  const vec = () => locals.add(V128);
  const [raw, maxV, sumV, e, scaleV] = [vec(), vec(), vec(), vec(), vec()];
  const softmax = { maxV, sumV, raw, e };
  const code = new WasmCode(options);
  const k = new Constants(locals, code);
  const exp = expScratch(locals, code, k);
  const product = productScratch(locals);
  const layout: HeadLayout = {
    heads,
    length,
    headSize,
    probsPtr,
    scratch,
    rowBytes,
    lengthBytes,
    headBytes,
    four,
    b,
    h,
    transpose: { j, c, from },
    product,
  };
  emitStrides(code, layout, scale, scaleV);
  code.loop(b, batch, 1, (sequence) => {
    sequence.get(biasPtr).get(b).get(biasStride).mul().add().set(biasBase);
    sequence.i32(0).set(h);
    sequence.loop(h, heads, 1, (head) => {
      const pointers = [
        [qPtr, qh],
        [kPtr, kh],
        [vPtr, vh],
        [outPtr, oh],
      ] as const;
      emitHeadPointers(head, layout, headOffset, pointers, pBase);
      // Raw scores Q Kᵀ into the probability rows.
      emitScores(head, layout, qh, kh, pBase);
      // Row softmax of scale · raw + bias.
      head.i32(0).set(i);
      head.get(pBase).set(prow);
      head.get(biasBase).set(brow);
      const limit = product.limit;
      head.loop(i, length, 1, (row) => {
        emitRowLimit(row, i, limit);
        row.splatConst(-3.0e38).set(maxV);
        row.i32(0).set(jv);
        row.loop(jv, limit, 16, (lane) => {
          lane.mulAdd(
            (c) => c.get(brow).get(jv).add().load(),
            (c) => c.get(prow).get(jv).add().load().get(scaleV),
          );
          lane.set(raw);
          lane.get(prow).get(jv).add().get(raw).store();
          lane.get(maxV).get(raw).vpmax().set(maxV);
        });
        emitSoftmaxWeights(row, { base: prow, index: jv, bytes: limit }, k, exp, softmax);
        row.i32(0).set(jv);
        row.loop(jv, limit, 16, (lane) => {
          lane.get(prow).get(jv).add().get(prow).get(jv).add().load().get(sumV).vmul().store();
        });
        // The columns past the limit, never computed: weight 0.
        row
          .get(limit)
          .get(lengthBytes)
          .ltU()
          .when((rest) => {
            rest.get(limit).set(jv);
            rest.loop(jv, lengthBytes, 16, (lane) => {
              lane.get(prow).get(jv).add().splatConst(0).store();
            });
          });
        row.get(prow).get(lengthBytes).add().set(prow);
        row.get(brow).get(lengthBytes).add().set(brow);
      });
      // Context rows P V.
      emitProduct(
        head,
        {
          a: pBase,
          aRowStride: lengthBytes,
          aStep: four,
          m: vh,
          mRowStride: rowBytes,
          out: oh,
          outRowStride: rowBytes,
          rows: length,
          inner: length,
          width: headBytes,
          triangle: "lower",
        },
        product,
      );
    });
  });
  return { name: "attention", params, locals: locals.types, code };
}

/**
 * `attentionGrad(q, k, v, probs, dOut, dq, dk, dv, scratch, B, H, L, hs, scale)`: the gradient of
 * {@link attentionFunction} from its saved `probs`: `dP = dO Vᵀ`, `dS = P ⊙ (dP − rowsum(P ⊙ dP)) · scale`,
 * `dQ = dS K`, `dK = dSᵀ Q`, `dV = Pᵀ dO`, per sequence and head; `scratch` holds `hs · L + L · L` floats.
 */
export function attentionGradFunction(options: CodeOptions): WasmFunction {
  const params: ValueType[] = [I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, F32];
  const [qPtr, kPtr, vPtr, probsPtr, dOutPtr, dqPtr, dkPtr, dvPtr, scratch] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [batch, heads, length, headSize, scale] = [9, 10, 11, 12, 13];
  const locals = new Locals(params.length);
  const int = () => locals.add(I32);
  const [rowBytes, lengthBytes, headBytes, b] = [int(), int(), int(), int()];
  const [h, headOffset, pBase, dsBase] = [int(), int(), int(), int()];
  const [qh, kh, vh, doh, dqh, dkh, dvh] = [int(), int(), int(), int(), int(), int(), int()];
  const [i, jv, prow, dsrow, j, c, from, four] = [int(), int(), int(), int(), int(), int(), int(), int()];
  const vec = () => locals.add(V128);
  const [dotV, dotS, pv, scaleV] = [vec(), vec(), vec(), vec()];
  const code = new WasmCode(options);
  const product = productScratch(locals);
  const layout: HeadLayout = {
    heads,
    length,
    headSize,
    probsPtr,
    scratch,
    rowBytes,
    lengthBytes,
    headBytes,
    four,
    b,
    h,
    transpose: { j, c, from },
    product,
  };
  emitStrides(code, layout, scale, scaleV);
  code.get(scratch).get(headSize).get(lengthBytes).mul().add().set(dsBase);
  code.loop(b, batch, 1, (sequence) => {
    sequence.i32(0).set(h);
    sequence.loop(h, heads, 1, (head) => {
      const pointers = [
        [qPtr, qh],
        [kPtr, kh],
        [vPtr, vh],
        [dOutPtr, doh],
        [dqPtr, dqh],
        [dkPtr, dkh],
        [dvPtr, dvh],
      ] as const;
      emitHeadPointers(head, layout, headOffset, pointers, pBase);
      // dP = dO Vᵀ into the dS rows.
      emitScores(head, layout, doh, vh, dsBase);
      // dS = P ⊙ (dP − Σⱼ P dP) · scale, row by row.
      head.i32(0).set(i);
      head.get(pBase).set(prow);
      head.get(dsBase).set(dsrow);
      // Only the columns the causal bounds computed (the products below read no further).
      const limit = product.limit;
      head.loop(i, length, 1, (row) => {
        emitRowLimit(row, i, limit);
        row.splatConst(0).set(dotV);
        row.i32(0).set(jv);
        row.loop(jv, limit, 16, (lane) => {
          lane.mulAdd(
            (c) => c.get(dotV),
            (c) => c.get(prow).get(jv).add().load().get(dsrow).get(jv).add().load(),
          );
          lane.set(dotV);
        });
        pushLaneSum(row, dotV);
        row.splat().set(dotS);
        row.i32(0).set(jv);
        row.loop(jv, limit, 16, (lane) => {
          lane.get(prow).get(jv).add().load().set(pv);
          lane.get(dsrow).get(jv).add();
          lane.get(dsrow).get(jv).add().load().get(dotS).vsub().get(pv).vmul().get(scaleV).vmul();
          lane.store();
        });
        row.get(prow).get(lengthBytes).add().set(prow);
        row.get(dsrow).get(lengthBytes).add().set(dsrow);
      });
      const rows = {
        rows: length,
        inner: length,
        width: headBytes,
        mRowStride: rowBytes,
        outRowStride: rowBytes,
      };
      // dQ = dS K; dK = dSᵀ Q (columns of dS); dV = Pᵀ dO (columns of P).
      emitProduct(
        head,
        { ...rows, a: dsBase, aRowStride: lengthBytes, aStep: four, m: kh, out: dqh, triangle: "lower" },
        product,
      );
      emitProduct(
        head,
        { ...rows, a: dsBase, aRowStride: four, aStep: lengthBytes, m: qh, out: dkh, triangle: "upper" },
        product,
      );
      emitProduct(
        head,
        { ...rows, a: pBase, aRowStride: four, aStep: lengthBytes, m: doh, out: dvh, triangle: "upper" },
        product,
      );
    });
  });
  return { name: "attentionGrad", params, locals: locals.types, code };
}
