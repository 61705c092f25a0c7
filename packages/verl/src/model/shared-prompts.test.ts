import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../backend/init-backend.js";
import { backendsForTests } from "../internal/testing/test-backends.js";
import { CharTokenizer } from "../tokenizer/char-tokenizer.js";
import { planPromptPacking, sharedPromptLayout } from "./shared-prompts.js";
import { TransformerPolicy } from "./transformer-policy.js";

describe("planPromptPacking", () => {
  // 4 sequences of 5 positions, prompt region 3: rows 0 and 2 share theirs, row 3 differs from row 0 in its mask.
  const tokens = [1, 2, 3, 9, 9, 4, 5, 6, 8, 8, 1, 2, 3, 7, 7, 1, 2, 3, 6, 6];
  const mask = [1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1];

  it("keeps each distinct prompt region once, then every sequence's own positions", () => {
    const plan = planPromptPacking(tokens, mask, 4, 5, 3)!;
    expect(plan).toMatchObject({ shared: 3, groups: 3, rows: 3 * 3 + 4 * 2 });
    // Groups in order of first appearance: row 0 (and 2) → 0, row 1 → 1, row 3 → 2; own rows from 9.
    expect([...plan.expand]).toEqual([
      ...[0, 1, 2, 9, 10],
      ...[3, 4, 5, 11, 12],
      ...[0, 1, 2, 13, 14],
      ...[6, 7, 8, 15, 16],
    ]);
    expect([...plan.source]).toEqual([0, 1, 2, 5, 6, 7, 15, 16, 17, 3, 4, 8, 9, 13, 14, 18, 19]);
    // Every packed row stands for a position that expands back to it.
    expect([...plan.source].map((position) => plan.expand[position])).toEqual([...plan.source.keys()]);
  });

  it("packs sequences that all share their prompt region into one group", () => {
    const plan = planPromptPacking([1, 2, 9, 1, 2, 8, 1, 2, 7], undefined, 3, 3, 2)!;
    expect(plan).toMatchObject({ shared: 2, groups: 1, rows: 2 + 3 });
    expect([...plan.expand]).toEqual([0, 1, 2, 0, 1, 3, 0, 1, 4]);
    expect([...plan.source]).toEqual([0, 1, 2, 5, 8]);
  });

  it("gives no packing when no two sequences share their prompt region (tokens and mask)", () => {
    expect(planPromptPacking(tokens, mask, 4, 5, 4)).toBeNull();
    expect(planPromptPacking(tokens.slice(0, 10), mask.slice(0, 10), 2, 5, 3)).toBeNull();
    expect(planPromptPacking(tokens, undefined, 4, 5, 3)?.groups).toBe(2);
    // Two sequences whose prompt region is padding only stay apart (their attention there sees no key).
    expect(planPromptPacking([0, 0, 5, 0, 0, 6], [0, 0, 1, 0, 0, 1], 2, 3, 2)).toBeNull();
    expect(planPromptPacking([0, 4, 5, 0, 4, 6], [0, 1, 1, 0, 1, 1], 2, 3, 2)?.groups).toBe(1);
  });
});

const backends = (await backendsForTests()).filter((name) => name === "wasm");
const tokenizer = CharTokenizer.fromCorpus(["abcdefghijklmnopqrstuvwxyz 0123456789"]);

/**
 * Seven sequences of 16 positions: prompt A (5 tokens, left-padded to 7) three times, prompt B (7 tokens) three
 * times, prompt C once, interleaved; responses of 9 tokens, each its own, two of them padded at the end.
 */
function groupedBatch(): { tokens: number[][]; mask: number[][] } {
  const prompts = [
    [0, 0, 5, 6, 7, 8, 9],
    [11, 12, 13, 14, 15, 16, 17],
    [0, 0, 5, 6, 7, 8, 9],
    [11, 12, 13, 14, 15, 16, 17],
    [0, 0, 5, 6, 7, 8, 9],
    [11, 12, 13, 14, 15, 16, 17],
    [0, 21, 22, 23, 24, 25, 26],
  ];
  const padded = [0, 0, 1, 1, 1, 1, 1];
  const full = [1, 1, 1, 1, 1, 1, 1];
  const promptMasks = [padded, full, padded, full, padded, full, [0, 1, 1, 1, 1, 1, 1]];
  const tokens = prompts.map((prompt, row) => [
    ...prompt,
    ...Array.from({ length: 9 }, (_, j) => 1 + ((row * 7 + j * 5) % 30)),
  ]);
  const mask = prompts.map((_, row) => [
    ...promptMasks[row]!,
    ...Array.from({ length: 9 }, (_, j) => ((row === 1 && j > 5) || (row === 4 && j > 7) ? 0 : 1)),
  ]);
  return { tokens, mask };
}

/** The given rows of a batch matrix, as an int32 `[rows, length]` tensor. */
function rowsOf(matrix: number[][], rows: number[]): tf.Tensor2D {
  return tf.tensor2d(
    rows.map((r) => matrix[r]!),
    undefined,
    "int32",
  );
}

describe.each(backends)("shared-prompt packing on %s", (backend) => {
  let policy: TransformerPolicy;
  beforeAll(async () => {
    await initBackend({ backend });
    policy = new TransformerPolicy({
      tokenizer,
      config: {
        contextLength: 24,
        dModel: 32,
        nHeads: 4,
        nLayers: 2,
        dMlp: 64,
        rotary: true,
        valueHead: true,
      },
      seed: 5,
    });
  });
  afterAll(() => policy.dispose());

  const responseStart = 7;
  /** Log-probs, entropy and values of `rows` of the batch, and the gradient of a fixed weighted sum of them. */
  function scored(
    rows: number[],
    batch = groupedBatch(),
  ): { outputs: number[][]; gradients: Map<string, Float32Array> } {
    const { tokens, mask } = batch;
    const result = { outputs: [] as number[][], gradients: new Map<string, Float32Array>() };
    tf.tidy(() => {
      const input = {
        tokens: rowsOf(tokens, rows),
        attentionMask: rowsOf(mask, rows),
        responseStart,
        temperature: 0.8,
        withEntropy: true,
        withValues: true,
      };
      const weights = tf.tensor2d(rows.map((r) => Array.from({ length: 9 }, (_, j) => Math.sin(r * 9 + j))));
      const { grads } = tf.variableGrads(() => {
        const out = policy.logProbs(input);
        result.outputs = [out.logProbs, out.entropy!, out.values!].map((t) => Array.from(t.dataSync()));
        const terms = [out.logProbs, tf.mul(out.entropy!, 0.3), tf.mul(out.values!, -0.7)];
        return tf.sum(tf.mul(tf.addN(terms), weights)) as tf.Scalar;
      }, policy.trainableVariables());
      const names = new Map(policy.parameters().map(({ name, variable }) => [variable.name, name]));
      for (const [id, gradient] of Object.entries(grads)) {
        result.gradients.set(names.get(id)!, new Float32Array(gradient.dataSync()));
      }
    });
    return result;
  }

  it("packs a batch whose sequences repeat prompts, and not one whose prompts all differ", async () => {
    const { tokens, mask } = groupedBatch();
    tf.tidy(() => {
      const layout = (rows: number[]) =>
        sharedPromptLayout(
          rowsOf(tokens, rows),
          rowsOf(mask, rows),
          { start: responseStart - 1, count: 16 - responseStart + 1 },
          32,
        );
      expect(layout([0, 1, 2, 3, 4, 5, 6])?.plan).toMatchObject({ groups: 3, rows: 3 * 7 + 7 * 9 });
      expect(layout([0, 1, 6])).toBeNull();
    });
    // The unpacked forward runs its two embedding lookups only; the packed one gathers rows around attention.
    const lookups = async (rows: number[]) => {
      const profile = await tf.profile(() => {
        scored(rows);
        return [];
      });
      return profile.kernels.map((kernel) => kernel.name).filter((name) => name === "OrbiterEmbedding")
        .length;
    };
    expect(await lookups([0, 1, 6])).toBe(2);
    // Per block: queries, keys and values expanded, the context packed back; then the last block's kept rows of
    // its context and of its residual.
    expect(await lookups([0, 1, 2])).toBe(2 + 2 * 4 + 2);
  });

  it("gives the log-probs, entropy, values and every gradient of the unpacked forward", () => {
    const rows = [0, 1, 2, 3, 4, 5, 6];
    const packed = scored(rows);
    // One sequence per call: no prompt repeats, so each runs unpacked; gradients of a sum add up.
    const single = rows.map((r) => scored([r]));
    packed.outputs.forEach((values, output) => {
      const expected = single.flatMap((s) => s.outputs[output]!);
      expectRelativelyClose(values, expected, `output ${output}`);
    });
    expect([...packed.gradients.keys()].sort()).toEqual(
      policy
        .parameters()
        .map((p) => p.name)
        .sort(),
    );
    for (const [name, gradient] of packed.gradients) {
      const expected = new Float32Array(gradient.length);
      for (const s of single)
        s.gradients.get(name)!.forEach((g, i) => {
          expected[i] = (expected[i] as number) + g;
        });
      expectRelativelyClose([...gradient], [...expected], name);
    }
  });

  it("keeps apart sequences whose prompt region is all padding (their last prompt position sees no key)", () => {
    // Nothing before responseStart is a real token: the scored position's attention has only masked keys, which
    // tie at −1e9 with the keys after it, so its hidden state depends on each sequence's own response.
    const { tokens, mask } = groupedBatch();
    const empty = {
      tokens: [0, 1, 2].map((r) => [...Array(7).fill(0), ...tokens[r]!.slice(7)]),
      mask: [0, 1, 2].map((r) => [...Array(7).fill(0), ...mask[r]!.slice(7)]),
    };
    const packed = scored([0, 1, 2], empty);
    const single = [0, 1, 2].map((r) => scored([r], empty));
    packed.outputs.forEach((values, output) => {
      expectRelativelyClose(
        values,
        single.flatMap((s) => s.outputs[output]!),
        `output ${output}`,
      );
    });
  });

  it("leaves no tensor behind", () => {
    scored([0, 1, 2, 3, 4, 5, 6]);
    const before = tf.memory().numTensors;
    scored([0, 1, 2, 3, 4, 5, 6]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

/** Every element within 1e-5 of the expected values' largest magnitude (float sums in another order). */
function expectRelativelyClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i]!));
    worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  }
  expect(scale, what).toBeGreaterThan(0);
  expect(worst / scale, what).toBeLessThan(1e-5);
}
