import * as tf from "@tensorflow/tfjs";
import type { RowSelection } from "./transformer-block.js";

/** A run of positions of every sequence whose outputs a forward needs: `count` of them from `start`. */
export interface KeptPositions {
  start: number;
  count: number;
}

/**
 * The selection of the rows at positions `start .. start + count − 1` of each of `batch` sequences of `length`
 * positions, from rows `[batch·length, d]` → `[batch·count, d]` (one slice; its gradient pads zeros back).
 */
export function keptRows(batch: number, length: number, keep: KeptPositions): RowSelection {
  const { start, count } = keep;
  return (rows) => {
    if (start === 0 && count === length) return rows;
    const d = rows.shape[1] as number;
    return tf.reshape(tf.slice(tf.reshape(rows, [batch, length, d]), [0, start, 0], [batch, count, d]), [
      batch * count,
      d,
    ]);
  };
}
