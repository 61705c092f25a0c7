import type * as tf from "@tensorflow/tfjs";
import { expect } from "vitest";

/**
 * Test helper: asserts that a tensor (or number) equals the expected values element-wise within an absolute
 * `tolerance`, naming the first index that is off. Shapes are compared flattened (up to 3-D).
 */
export function expectClose(
  tensor: tf.Tensor | number,
  expected: number[] | number[][] | number,
  tolerance = 1e-5,
): void {
  const actual = typeof tensor === "number" ? tensor : tensor.arraySync();
  const flatActual = [actual].flat(3) as number[];
  const flatExpected = [expected].flat(3) as number[];
  expect(flatActual).toHaveLength(flatExpected.length);
  flatActual.forEach((value, i) => {
    expect(
      Math.abs(value - (flatExpected[i] as number)),
      `index ${i}: ${value} vs ${flatExpected[i]}`,
    ).toBeLessThan(tolerance);
  });
}
