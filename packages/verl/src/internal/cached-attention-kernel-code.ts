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
 * One decoding step of attention against a key/value cache as one wasm SIMD kernel: the cache grows by the new
 * position (copied into new buffers, so tensors stay immutable) and the new position's query attends to every
 * cached key. Head size a multiple of 4.
 */

/**
 * `cachedAttention(q, k, v, keys, values, keyBias, out, newKeys, newValues, scores, B, H, t, T, hs, scale)`:
 * `q, k, v [B, d]` (heads side by side) of the new position, `keys, values [B, H, t, hs]` cached, `keyBias
 * [B, t + 1]` additive (pointer 0: none); writes `newKeys, newValues [B, H, T, hs]` (T ≥ t + 1 positions per
 * head: the old ones copied, the new one at t) and the context `out [B, d] = softmax(scale · q Kᵀ + bias) V`
 * per head. When `newKeys = keys` and `newValues = values` (buffers of T positions) only position t is
 * written. `scores` is scratch for `t + 1` floats rounded up to a multiple of 4.
 */
export function cachedAttentionFunction(options: CodeOptions): WasmFunction {
  const params: ValueType[] = [...Array<ValueType>(15).fill(I32), F32];
  const [qPtr, kPtr, vPtr, keysPtr, valuesPtr, biasPtr, outPtr, newKeysPtr, newValuesPtr, scoresPtr] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
  ];
  const [batch, heads, cached, capacity, headSize, scale] = [10, 11, 12, 13, 14, 15];
  const locals = new Locals(params.length);
  const int = () => locals.add(I32);
  const [rowBytes, headBytes, oldBytes, newBytes] = [int(), int(), int(), int()];
  const [scoreBytes, paddedBytes, b, h] = [int(), int(), int(), int()];
  const [slice, qh, kp, kEnd] = [int(), int(), int(), int()];
  const [sp, cv, vp, targetSlice] = [int(), int(), int(), int()];
  const vec = () => locals.add(V128);
  const [acc, maxV, sumV, raw, e, weight] = [vec(), vec(), vec(), vec(), vec(), vec()];
  const accs = [acc, ...Array.from({ length: 7 }, vec)];
  const dot = locals.add(F32);
  const code = new WasmCode(options);
  const k = new Constants(locals, code);
  const exp = expScratch(locals, code, k);
  const low = k.of(-3.0e38);
  code.get(heads).get(headSize).mul().i32(2).shl().set(rowBytes);
  code.get(headSize).i32(2).shl().set(headBytes);
  code.get(cached).get(headBytes).mul().set(oldBytes);
  code.get(oldBytes).get(headBytes).add().set(newBytes);
  code.get(capacity).get(headBytes).mul().set(targetSlice);
  code.get(cached).i32(1).add().i32(2).shl().set(scoreBytes);
  code.get(scoreBytes).i32(12).add().i32(-16).andI32().set(paddedBytes);
  /** Context rows of the head at `qh` from the weights in `scores`, `width` vectors of columns at a time. */
  const emitContext = (code: WasmCode, width: number) => {
    const columns = accs.slice(0, width);
    code.i32(0).set(cv);
    code.loop(cv, headBytes, 16 * width, (block) => {
      for (const column of columns) block.splatConst(0).set(column);
      block.get(newValuesPtr).get(slice).get(targetSlice).mul().add().get(cv).add().set(vp);
      block.get(scoresPtr).set(sp);
      block.get(scoresPtr).get(scoreBytes).add().set(kEnd);
      block.loop(sp, kEnd, 4, (value) => {
        value.get(sp).loadSplat().set(weight);
        columns.forEach((column, c) => {
          value.mulAdd(
            (add) => add.get(column),
            (factors) =>
              factors
                .get(weight)
                .get(vp)
                .load(16 * c),
          );
          value.set(column);
        });
        value.get(vp).get(headBytes).add().set(vp);
      });
      columns.forEach((column, c) => {
        block
          .get(outPtr)
          .get(qh)
          .add()
          .get(cv)
          .add()
          .get(column)
          .get(sumV)
          .vmul()
          .store(16 * c);
      });
    });
  };
  code.loop(b, batch, 1, (sequence) => {
    sequence.i32(0).set(h);
    sequence.loop(h, heads, 1, (head) => {
      // The (b, h) slices: old [t, hs] and new [t + 1, hs] (contiguous), and the head's columns of row b.
      head.get(b).get(heads).mul().get(h).add().set(slice);
      head.get(b).get(rowBytes).mul().get(h).get(headBytes).mul().add().set(qh);
      for (const [source, target, fresh] of [
        [keysPtr, newKeysPtr, kPtr],
        [valuesPtr, newValuesPtr, vPtr],
      ] as const) {
        // In place (source = target, a buffer of `capacity` positions) only the new row is written.
        head
          .get(source)
          .get(target)
          .sub()
          .when((copy) => {
            copy.get(target).get(slice).get(targetSlice).mul().add();
            copy.get(source).get(slice).get(oldBytes).mul().add();
            copy.get(oldBytes).memoryCopy();
          });
        head.get(target).get(slice).get(targetSlice).mul().add().get(oldBytes).add();
        head.get(fresh).get(qh).add();
        head.get(headBytes).memoryCopy();
      }
      // Scores scale · q·Kⱼ (+ bias) for j ≤ t, then −3e38 up to a whole vector.
      head.get(newKeysPtr).get(slice).get(targetSlice).mul().add().set(kp);
      head.get(kp).get(newBytes).add().set(kEnd);
      head.get(scoresPtr).set(sp);
      head.loopBy(kp, kEnd, headBytes, (key) => {
        key.splatConst(0).set(acc);
        key.i32(0).set(cv);
        key.loop(cv, headBytes, 16, (lane) => {
          lane.mulAdd(
            (add) => add.get(acc),
            (factors) => factors.get(kp).get(cv).add().load().get(qPtr).get(qh).add().get(cv).add().load(),
          );
          lane.set(acc);
        });
        pushLaneSum(key, acc);
        key.get(scale).mulF32().set(dot);
        key.get(biasPtr).when((bias) => {
          bias.get(dot);
          bias.get(biasPtr).get(b).get(scoreBytes).mul().add().get(sp).add().get(scoresPtr).sub().loadF32();
          bias.addF32().set(dot);
        });
        key.get(sp).get(dot).storeF32();
        key.get(sp).i32(4).add().set(sp);
      });
      head.get(scoresPtr).get(paddedBytes).add().set(kEnd);
      head
        .get(sp)
        .get(kEnd)
        .ltU()
        .when((pad) => {
          pad.loop(sp, kEnd, 4, (entry) => {
            entry.get(sp).f32(-3.0e38).storeF32();
          });
        });
      // Softmax weights (unnormalised) in place, their sum, then the context Σⱼ pⱼ Vⱼ / Σ p.
      head.get(low).set(maxV);
      head.i32(0).set(cv);
      head.loop(cv, paddedBytes, 16, (lane) => {
        lane.get(maxV).get(scoresPtr).get(cv).add().load().vpmax().set(maxV);
      });
      emitSoftmaxWeights(head, { base: scoresPtr, index: cv, bytes: paddedBytes }, k, exp, {
        maxV,
        sumV,
        raw,
        e,
      });
      // Context Σⱼ pⱼ Vⱼ / Σ p: 32 columns at a time when the head size is a multiple of 32 (each weight loaded
      // once for 8 vectors), else 4. Either way each output sums over j in order: the same floats.
      head
        .get(headBytes)
        .i32(127)
        .andI32()
        .eqz()
        .when((wide) => emitContext(wide, 8));
      head
        .get(headBytes)
        .i32(127)
        .andI32()
        .when((narrow) => emitContext(narrow, 1));
    });
  });
  return { name: "cachedAttention", params, locals: locals.types, code };
}
