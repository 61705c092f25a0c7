import * as tf from "@tensorflow/tfjs";
import { gatherRows } from "../internal/gather-rows.js";
import { simdKernelsActive } from "../internal/simd-kernels.js";
import type { KeptPositions } from "./kept-positions.js";
import type { AttentionFunction, RowSelection } from "./transformer-block.js";

/**
 * Where the rows of a packed residual stream come from, for `batch` sequences of `length` positions whose first
 * `shared` positions (the prompt region) repeat across sequences. Sequences with the same tokens and mask there,
 * at least one of them a real token, form a group; under causal attention their hidden states at those positions
 * are the same in every layer, so a packed stream holds them once: the `groups · shared` prompt positions (group
 * by group, in order of first appearance), then each sequence's own positions `shared .. length − 1` (sequence by
 * sequence), `rows` in all.
 */
export interface PromptPacking {
  /** Positions `0 .. shared − 1` are shared within a group. */
  shared: number;
  /** Distinct prompt regions (fewer than the sequences: a packing exists only when some repeat). */
  groups: number;
  /** Rows of the packed stream: `groups · shared + batch · (length − shared)`. */
  rows: number;
  /** `[batch · length]`: the packed row of each position `b · length + p`. */
  expand: Int32Array;
  /** `[rows]`: the position `b · length + p` each packed row stands for (for a shared one, its group's first sequence's). */
  source: Int32Array;
}

/**
 * Groups the sequences of host `tokens` (and `mask`, both `[batch, length]` row-major) by their first `shared`
 * positions (a sequence with no real token there stays alone) and lays out the packed rows ({@link PromptPacking});
 * null when no two sequences share them, so that the caller keeps the unpacked forward.
 */
export function planPromptPacking(
  tokens: ArrayLike<number>,
  mask: ArrayLike<number> | undefined,
  batch: number,
  length: number,
  shared: number,
): PromptPacking | null {
  const groupOf = new Int32Array(batch);
  const firstOf: number[] = [];
  const seen = new Map<string, number>();
  for (let b = 0; b < batch; b++) {
    // A prompt region of padding alone is never shared: its queries see no key, and the −1e9 of every masked key
    // ties with the causal −1e9 of the keys after them, so its hidden states read the sequence's own response.
    const key = hasToken(mask, b * length, shared) ? promptKey(tokens, mask, b * length, shared) : null;
    let group = key === null ? undefined : seen.get(key);
    if (group === undefined) {
      group = firstOf.length;
      if (key !== null) seen.set(key, group);
      firstOf.push(b);
    }
    groupOf[b] = group;
  }
  const groups = firstOf.length;
  if (groups === batch) return null;
  const own = length - shared;
  const rows = groups * shared + batch * own;
  const expand = new Int32Array(batch * length);
  const source = new Int32Array(rows);
  firstOf.forEach((b, group) => {
    for (let p = 0; p < shared; p++) source[group * shared + p] = b * length + p;
  });
  for (let b = 0; b < batch; b++) {
    for (let p = 0; p < length; p++) {
      const row = p < shared ? groupOf[b]! * shared + p : groups * shared + b * own + (p - shared);
      expand[b * length + p] = row;
      if (p >= shared) source[row] = b * length + p;
    }
  }
  return { shared, groups, rows, expand, source };
}

/** Whether the sequence starting at `offset` has a real token (mask ≠ 0) among its first `shared` positions. */
function hasToken(mask: ArrayLike<number> | undefined, offset: number, shared: number): boolean {
  if (mask === undefined) return true;
  for (let p = 0; p < shared; p++) if (mask[offset + p] !== 0) return true;
  return false;
}

/** The tokens and mask values of positions `0 .. shared − 1` of the sequence starting at `offset`, as a map key. */
function promptKey(
  tokens: ArrayLike<number>,
  mask: ArrayLike<number> | undefined,
  offset: number,
  shared: number,
): string {
  const parts: number[] = [];
  for (let p = 0; p < shared; p++) parts.push(tokens[offset + p]!);
  if (mask !== undefined) for (let p = 0; p < shared; p++) parts.push(mask[offset + p]!);
  return parts.join(",");
}

/** How a scoring forward runs on a packed residual stream (see {@link sharedPromptLayout}). */
export interface PackedLayout {
  /** The plan behind the layout. */
  plan: PromptPacking;
  /** Integer values of every position `[B·L]` (token ids, positions) → those of the packed rows `[rows]` (int32). */
  pack(values: tf.Tensor1D): tf.Tensor1D;
  /**
   * A full-layout attention (`[B·L, d]` in and out) made to take and give packed rows: queries, keys and values
   * are expanded to every position, and each packed row reads its context back from the position it stands for.
   */
  attention(full: AttentionFunction): AttentionFunction;
  /** The last block's rows: each sequence's kept positions, in the order of the unpacked forward. */
  select: RowSelection;
}

/**
 * The packed layout of a scoring forward on `tokens [B, L]` (and `mask`) that keeps the positions `keep` names,
 * when sequences repeat their prompt region — every position before `keep.start + 1`, the first scored token's
 * position. Every position-wise operation of a block (LayerNorms, projections, MLP and their gradients) then runs on
 * `groups · S + B · (L − S)` rows instead of `B · L`; attention runs in the full layout between two differentiable
 * row gathers, whose gradients add the copies of a shared row, so values and gradients are those of the unpacked
 * forward up to the order of float sums. Null — the caller runs the unpacked forward, unchanged — unless the
 * package's wasm kernels are active (the gathers are single copies there), `width` is a multiple of 4 and two
 * sequences share their prompt region. Reads the tokens and mask to the host.
 */
export function sharedPromptLayout(
  tokens: tf.Tensor2D,
  mask: tf.Tensor2D | undefined,
  keep: KeptPositions,
  width: number,
): PackedLayout | null {
  if (!simdKernelsActive() || width % 4 !== 0) return null;
  const [batch, length] = tokens.shape;
  const plan = planPromptPacking(tokens.dataSync(), mask?.dataSync(), batch, length, keep.start + 1);
  if (plan === null) return null;
  const kept = new Int32Array(batch * keep.count);
  for (let b = 0; b < batch; b++) {
    for (let j = 0; j < keep.count; j++) kept[b * keep.count + j] = plan.expand[b * length + keep.start + j]!;
  }
  const expandIds = tf.tensor1d(plan.expand, "int32");
  const sourceIds = tf.tensor1d(plan.source, "int32");
  const keptIds = tf.tensor1d(kept, "int32");
  const expand = (x: tf.Tensor) => gatherRows(x, expandIds);
  return {
    plan,
    pack: (values) => {
      // On the host: wasm's GatherV2 costs more than reading the values and writing the packed ones back.
      const all = values.dataSync();
      return tf.tensor1d(
        plan.source.map((position) => all[position]!),
        "int32",
      );
    },
    attention: (full) => (q, k, v) => gatherRows(full(expand(q), expand(k), expand(v)), sourceIds),
    select: (rows) => gatherRows(rows, keptIds),
  };
}
