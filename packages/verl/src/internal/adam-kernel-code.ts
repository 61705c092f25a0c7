import { Locals } from "./simd-code-helpers.js";
import { F32, I32, V128, type ValueType, WasmCode, type WasmFunction } from "./wasm-code.js";

/** Scalars of one Adam step, as {@link adamFunction} takes them (each rounded to float32, as tfjs would). */
export const ADAM_SCALARS = [
  "beta1",
  "oneMinusBeta1",
  "beta2",
  "oneMinusBeta2",
  "correction2",
  "epsilon",
  "stepSize",
  "decay",
] as const;

/**
 * `adam(p, g, m, v, outP, outM, outV, count, withDecay, beta1, 1 − beta1, beta2, 1 − beta2, √(1 − beta2ᵗ), epsilon,
 * lr / (1 − beta1ᵗ), lr · weightDecay)`: one Adam step over `count` floats (a multiple of 4) in one pass —
 * `m' = m·β₁ + g·(1 − β₁)`, `v' = v·β₂ + g²·(1 − β₂)`, `p' = p − m' / (√v' / c₂ + ε) · s` (`− p · decay` when
 * `withDecay`) — with the operations, their order and their float32 rounding of the tfjs ops it replaces (no
 * fused multiply-add), so its results are the same floats.
 */
export function adamFunction(): WasmFunction {
  const params: ValueType[] = [
    ...Array<ValueType>(9).fill(I32),
    ...Array<ValueType>(ADAM_SCALARS.length).fill(F32),
  ];
  const [pPtr, gPtr, mPtr, vPtr, outP, outM, outV, count, withDecay] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const scalars = ADAM_SCALARS.map((_, i) => 9 + i);
  const locals = new Locals(params.length);
  const [i, end] = [locals.add(I32), locals.add(I32)];
  const vec = () => locals.add(V128);
  const [g, m, v, p] = [vec(), vec(), vec(), vec()];
  const splats = scalars.map(() => vec());
  const [beta1, oneMinusBeta1, beta2, oneMinusBeta2, correction2, epsilon, stepSize, decay] = splats as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const code = new WasmCode({ fma: false });
  scalars.forEach((scalar, s) => {
    code.get(scalar).splat().set(splats[s]!);
  });
  code.get(count).i32(2).shl().set(end);
  code.loop(i, end, 16, (body) => {
    body.get(gPtr).get(i).add().load().set(g);
    body.get(pPtr).get(i).add().load().set(p);
    body.get(mPtr).get(i).add().load().get(beta1).vmul().get(g).get(oneMinusBeta1).vmul().vadd().set(m);
    body.get(vPtr).get(i).add().load().get(beta2).vmul();
    body.get(g).get(g).vmul().get(oneMinusBeta2).vmul().vadd().set(v);
    body.get(outM).get(i).add().get(m).store();
    body.get(outV).get(i).add().get(v).store();
    // p − m / (√v / c₂ + ε) · s, then − p · decay.
    body.get(p).get(m).get(v).vsqrt().get(correction2).vdiv().get(epsilon).vadd().vdiv().get(stepSize).vmul();
    body.vsub().set(g);
    body.get(withDecay).when((decayed) => {
      decayed.get(g).get(p).get(decay).vmul().vsub().set(g);
    });
    body.get(outP).get(i).add().get(g).store();
  });
  return { name: "adam", params, locals: locals.types, code };
}
