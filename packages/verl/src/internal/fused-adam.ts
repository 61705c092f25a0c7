import * as tf from "@tensorflow/tfjs";
import {
  address,
  defineSimdKernel,
  defineSimdKernelsOnce,
  fitsElementWise,
  runSimdKernel,
  simdKernelsActive,
} from "./simd-kernels.js";

/** The scalars of one Adam step (see `adam-kernel-code.ts`). */
export interface AdamStepScalars {
  beta1: number;
  beta2: number;
  /** `√(1 − β₂ᵗ)`. */
  correction2: number;
  epsilon: number;
  /** `lr / (1 − β₁ᵗ)`. */
  stepSize: number;
  /** `lr · weightDecay`, subtracted times `p` when `withDecay` (weight decay > 0). */
  decay: number;
  withDecay: boolean;
}

const register = defineSimdKernelsOnce(() => {
  defineSimdKernel("OrbiterAdam", (backend, simd, [p, g, m, v], attrs) => {
    const outputs = [p!, m!, v!].map((t) => backend.makeOutput([...t.shape], "float32"));
    const s = attrs as unknown as AdamStepScalars;
    simd.adam(
      ...[p!, g!, m!, v!, ...outputs].map((t) => address(backend, t)),
      tf.util.sizeFromShape(p!.shape),
      s.withDecay ? 1 : 0,
      s.beta1,
      1 - s.beta1,
      s.beta2,
      1 - s.beta2,
      s.correction2,
      s.epsilon,
      s.stepSize,
      s.decay,
    );
    return outputs;
  });
});

/** Whether {@link fusedAdamStep} runs here: SIMD kernels active, float32 operands whose size is a multiple of 4. */
export function fitsFusedAdam(parameter: tf.Tensor, gradient: tf.Tensor): boolean {
  return (
    simdKernelsActive() &&
    fitsElementWise(parameter) &&
    gradient.dtype === "float32" &&
    gradient.size === parameter.size
  );
}

/**
 * One Adam step of a parameter in one wasm pass: `[p', m', v']` from `p`, its gradient and moments — the same
 * floats as the chain of tfjs ops it replaces (about a dozen kernels). Check {@link fitsFusedAdam} first.
 */
export function fusedAdamStep(
  p: tf.Tensor,
  g: tf.Tensor,
  m: tf.Tensor,
  v: tf.Tensor,
  scalars: AdamStepScalars,
): [tf.Tensor, tf.Tensor, tf.Tensor] {
  register();
  return runSimdKernel("OrbiterAdam", { p, g, m, v }, { ...scalars }) as [tf.Tensor, tf.Tensor, tf.Tensor];
}
