import { Locals, pushLaneSum } from "./simd-code-helpers.js";
import { type CodeOptions, F32, I32, V128, WasmCode, type WasmFunction } from "./wasm-code.js";

/* Layer normalisation of rows, forward and gradient, as wasm SIMD kernels (row width a multiple of 4). */

/**
 * `layerNorm(x, gain, bias, out, xHat, rstd, n, d, invD, eps)`: each row of `x [n, d]` (d a multiple of 4)
 * normalised, `out = x̂ · gain + bias` with `x̂ = (x − mean) · rstd`, `rstd = 1 / √(var + eps)`; `x̂ [n, d]` and
 * `rstd [n]` are written too when their pointers are not 0 (what the gradient needs).
 */
export function layerNormFunction(options: CodeOptions): WasmFunction {
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
  const code = new WasmCode(options);
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
      lane
        .mulAdd(
          (c) => c.get(sum),
          (c) => c.get(centred).get(centred),
        )
        .set(sum);
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
      lane.mulAdd(
        (c) => c.get(biasPtr).get(p).add().load(),
        (c) => c.get(xHat).get(gainPtr).get(p).add().load(),
      );
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
export function layerNormGradFunction(options: CodeOptions): WasmFunction {
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
  const code = new WasmCode(options);
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
      lane.mulAdd(
        (c) => c.get(sumGx),
        (c) => c.get(g).get(xHatPtr).get(ro).add().get(p).add().load(),
      );
      lane.set(sumGx);
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
      lane
        .mulAdd(
          (c) => c.get(dGainPtr).get(p).add().load(),
          (c) => c.get(dy).get(xHat),
        )
        .store();
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
