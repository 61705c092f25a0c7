import { expect } from "vitest";
import type { GradientApplier } from "../../trainer/policy-update.js";

/** A {@link GradientApplier} that applies nothing and keeps a host copy of each gradient it was given. */
export interface GradientRecorder extends GradientApplier {
  /** The last gradient given for each parameter name, in the order the names first came. */
  readonly seen: Map<string, Float32Array>;
}

/** Test helper: an optimiser stand-in with learning rate 0 that records the (clipped) gradients it is given. */
export function gradientRecorder(): GradientRecorder {
  const seen = new Map<string, Float32Array>();
  return {
    learningRate: 0,
    seen,
    applyGradients(gradients) {
      for (const [name, gradient] of Object.entries(gradients))
        seen.set(name, gradient.dataSync() as Float32Array);
    },
  };
}

/**
 * Test helper: asserts that two recorders saw the same parameters in the same order, with every gradient element
 * equal within `1e-5 + 1e-3 · |expected|` (float32 sums taken in a different order), naming the parameter.
 */
export function expectSameGradients(actual: GradientRecorder, expected: GradientRecorder): void {
  expect([...actual.seen.keys()]).toEqual([...expected.seen.keys()]);
  for (const [name, gradient] of expected.seen) {
    const other = actual.seen.get(name) as Float32Array;
    gradient.forEach((x, i) => {
      expect(Math.abs((other[i] as number) - x), name).toBeLessThan(1e-5 + 1e-3 * Math.abs(x));
    });
  }
}
