import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../backend/init-backend.js";
import { backendsForTests } from "../internal/testing/test-backends.js";
import type { DecoderStep, KvCache } from "../rollout/kv-cache.js";
import { CharTokenizer } from "../tokenizer/char-tokenizer.js";
import { TransformerPolicy } from "./transformer-policy.js";

const backends = await backendsForTests();
const tokenizer = CharTokenizer.fromCorpus(["abcdefghijklmnopqrstuvwxyz"]);

describe.each(backends)("KV-cache decoding steps on %s", (backend) => {
  let policy: TransformerPolicy;
  beforeAll(async () => {
    await initBackend({ backend });
    policy = new TransformerPolicy({
      tokenizer,
      config: { contextLength: 16, dModel: 32, nHeads: 4, nLayers: 2, dMlp: 64 },
      seed: 5,
    });
  });
  afterAll(() => policy.dispose());

  /** Runs a decoder call in tf.tidy, keeping the logits and the cache (as the batched sampler does). */
  function tidied(run: () => DecoderStep): DecoderStep {
    let out: DecoderStep | undefined;
    tf.tidy(() => {
      const result = run();
      tf.keep(result.logits);
      result.cache.keep();
      out = result;
    });
    return out as unknown as DecoderStep;
  }

  /** Logits after prefilling 2 prompts (each row repeated twice) and feeding `fed` one token per step. */
  function decode(
    fed: number[][],
    from?: { cache: KvCache; length: number },
  ): { logits: number[]; cache: KvCache } {
    let cache = from?.cache;
    let logits: tf.Tensor | null = null;
    let length = from?.length ?? 4;
    if (cache === undefined) {
      const prompts = tf.tensor2d(
        [
          [2, 3, 4, 5],
          [6, 7, 8, 9],
        ],
        undefined,
        "int32",
      );
      const first = tidied(() => policy.prefill(prompts, null, 2));
      prompts.dispose();
      first.logits.dispose();
      cache = first.cache;
    }
    let owned = from === undefined;
    for (const tokens of fed) {
      const current = cache;
      const next = tidied(() =>
        policy.step(current, Int32Array.from(tokens), Int32Array.from(tokens.map(() => length))),
      );
      if (owned) cache.dispose();
      logits?.dispose();
      cache = next.cache;
      logits = next.logits;
      owned = true;
      length++;
    }
    const values = Array.from((logits as tf.Tensor).dataSync());
    logits?.dispose();
    return { logits: values, cache };
  }

  it("gives a branch from an older cache the logits of a fresh decode, and leaves the newer cache intact", () => {
    const before = tf.memory().numTensors;
    const trunk = decode([[10, 11, 12, 13]]);
    const ahead = decode([[14, 15, 16, 17]], { cache: trunk.cache, length: 5 });
    // A second step from `trunk` (the buffers already hold `ahead`'s position): a branch.
    const branch = decode([[18, 19, 20, 21]], { cache: trunk.cache, length: 5 });
    const fresh = decode([
      [10, 11, 12, 13],
      [18, 19, 20, 21],
    ]);
    branch.logits.forEach((value, i) => {
      expect(value).toBeCloseTo(fresh.logits[i]!, 5);
    });
    // `ahead` still decodes as if the branch never happened.
    const onward = decode([[22, 23, 24, 25]], { cache: ahead.cache, length: 6 });
    const straight = decode([
      [10, 11, 12, 13],
      [14, 15, 16, 17],
      [22, 23, 24, 25],
    ]);
    onward.logits.forEach((value, i) => {
      expect(value).toBeCloseTo(straight.logits[i]!, 5);
    });
    for (const { cache } of [trunk, ahead, branch, fresh, onward, straight]) cache.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
