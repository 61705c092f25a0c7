import * as tf from "@tensorflow/tfjs";
import { transposeLastTwo } from "../internal/fast-transpose.js";

type GradConfig = ReturnType<typeof tf.getGradient>;
type GradFunc = GradConfig["gradFunc"];

let registered = false;

/** `x @ y` with optional transposes done as explicit copies (wasm runs transposeA/B matmuls 10–17× slower). */
function product(x: tf.Tensor, y: tf.Tensor, transposeX: boolean, transposeY: boolean): tf.Tensor {
  return tf.matMul(transposeX ? transposeLastTwo(x) : x, transposeY ? transposeLastTwo(y) : y);
}

/** The BatchMatMul gradient of tfjs, with every transposed product replaced by {@link product}. */
function batchMatMulGradient(original: GradFunc): GradFunc {
  return (dy, saved, attrs) => {
    if (tf.getBackend() !== "wasm") return original(dy, saved, attrs);
    const [a, b] = saved as [tf.Tensor, tf.Tensor];
    const g = dy as tf.Tensor;
    const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
    if (!transposeA && !transposeB)
      return { a: () => product(g, b, false, true), b: () => product(a, g, true, false) };
    if (!transposeA && transposeB)
      return { a: () => product(g, b, false, false), b: () => product(g, a, true, false) };
    if (transposeA && !transposeB)
      return { a: () => product(b, g, false, true), b: () => product(a, g, false, false) };
    return { a: () => product(b, g, true, true), b: () => product(g, a, true, true) };
  };
}

/**
 * The GatherV2 gradient without UnsortedSegmentSum (which wasm lacks): the rows of `dy` are scattered back
 * with a one-hot product, `oneHot(indices)ᵀ @ dy`, after moving the gathered axis to the front. Cases with
 * `batchDims > 0` keep tfjs's own gradient.
 */
function gatherGradient(original: GradFunc): GradFunc {
  return (dy, saved, attrs) => {
    const { axis, batchDims } = attrs as unknown as { axis: number; batchDims: number };
    if (batchDims !== 0) return original(dy, saved, attrs);
    const [x, indices] = saved as [tf.Tensor, tf.Tensor];
    return {
      x: () => {
        const rank = x.rank;
        const gatherAxis = axis < 0 ? axis + rank : axis;
        const rows = x.shape[gatherAxis]!;
        const g = dy as tf.Tensor;
        const indexRank = indices.rank;
        // dy has shape x[:axis] + indices.shape + x[axis+1:]; bring the index axes to the front.
        const indexAxes = Array.from({ length: indexRank }, (_, i) => gatherAxis + i);
        const otherAxes = Array.from({ length: g.rank }, (_, i) => i).filter((i) => !indexAxes.includes(i));
        const moved = tf.transpose(g, [...indexAxes, ...otherAxes]);
        const flat = tf.reshape(moved, [indices.size, -1]);
        const oneHot = tf.cast(
          tf.oneHot(tf.reshape(tf.cast(indices, "int32"), [indices.size]) as tf.Tensor1D, rows),
          "float32",
        );
        const summed = tf.matMul(transposeLastTwo(oneHot), flat); // [rows, rest]
        const restShape = otherAxes.map((i) => g.shape[i]!);
        const front = tf.reshape(summed, [rows, ...restShape]);
        // front is [rows, x[:axis]..., x[axis+1:]...]; move rows back to its axis.
        const perm = Array.from({ length: rank }, (_, i) =>
          i < gatherAxis ? i + 1 : i === gatherAxis ? 0 : i,
        );
        return tf.transpose(front, perm);
      },
      indices: () => tf.zerosLike(indices),
    };
  };
}

/**
 * Registers faster or missing gradients with tfjs (once; later calls do nothing): BatchMatMul's gradient with
 * explicit transposes on wasm (the built-in one uses transposeA/B products, 10–17× slower there), and a
 * GatherV2 gradient that works without UnsortedSegmentSum, a kernel wasm lacks. Both give the same values as
 * the built-in gradients on the cpu backend (tested). `initBackend` calls this.
 */
export function registerFastGradients(): void {
  if (registered) return;
  const matMulConfig = tf.getGradient("BatchMatMul");
  const gatherConfig = tf.getGradient("GatherV2");
  if (matMulConfig !== undefined) {
    tf.registerGradient({ ...matMulConfig, gradFunc: batchMatMulGradient(matMulConfig.gradFunc) });
  }
  if (gatherConfig !== undefined) {
    tf.registerGradient({ ...gatherConfig, gradFunc: gatherGradient(gatherConfig.gradFunc) });
  }
  registered = true;
}
