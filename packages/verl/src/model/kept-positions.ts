import { keepRows } from "../internal/keep-rows.js";
import type { RowSelection } from "./transformer-block.js";

/** A run of positions of every sequence whose outputs a forward needs: `count` of them from `start`. */
export interface KeptPositions {
  start: number;
  count: number;
}

/**
 * The selection of the rows at positions `start .. start + count − 1` of each of `batch` sequences of `length`
 * positions, from rows `[batch·length, d]` → `[batch·count, d]` (see `keepRows`).
 */
export function keptRows(batch: number, length: number, keep: KeptPositions): RowSelection {
  const { start, count } = keep;
  return (rows) => (start === 0 && count === length ? rows : keepRows(rows, batch, length, start, count));
}
