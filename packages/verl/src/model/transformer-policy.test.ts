import { CheckpointError, InvalidArgumentError } from "@orbiter/types";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../backend/init-backend.js";
import { backendsForTests } from "../internal/test-backends.js";
import { CharTokenizer } from "../tokenizer/char-tokenizer.js";
import { TransformerPolicy } from "./transformer-policy.js";

const backends = await backendsForTests();
const tokenizer = CharTokenizer.fromCorpus(["abcdefghijklmnopqrstuvwxyz 0123456789"]);
const small = { contextLength: 24, dModel: 32, nHeads: 4, nLayers: 2, dMlp: 64 };

describe.each(backends)("TransformerPolicy on %s", (backend) => {
  let policy: TransformerPolicy;
  beforeAll(async () => {
    await initBackend({ backend });
    policy = new TransformerPolicy({ tokenizer, config: { ...small, valueHead: true }, seed: 3 });
  });
  afterAll(() => policy.dispose());

  it("has the reference workload's parameter count at the default sizes", () => {
    const reference = new TransformerPolicy({
      tokenizer: new CharTokenizer(
        "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".split(""),
      ),
    });
    expect(reference.config.vocabSize).toBe(66);
    const perBlock =
      2 * 128 + 128 * 384 + 384 + 128 * 128 + 128 + 2 * 128 + 128 * 512 + 512 + 512 * 128 + 128;
    expect(reference.parameterCount).toBe(66 * 128 + 64 * 128 + 2 * perBlock + 2 * 128 + 128 * 66 + 66);
    reference.dispose();
  });

  it("initialises the same weights for the same seed, different ones for another", () => {
    const a = new TransformerPolicy({ tokenizer, config: small, seed: 11 });
    const b = new TransformerPolicy({ tokenizer, config: small, seed: 11 });
    const c = new TransformerPolicy({ tokenizer, config: small, seed: 12 });
    const wa = a.getWeights().get("blocks.1.mlp.in.weight")!.data;
    expect(b.getWeights().get("blocks.1.mlp.in.weight")!.data).toEqual(wa);
    expect(c.getWeights().get("blocks.1.mlp.in.weight")!.data).not.toEqual(wa);
    for (const p of [a, b, c]) p.dispose();
  });

  it("gives the KV-cache sampler the logits of a full forward on the same prefix (left-padded prompts)", async () => {
    const rollout = await policy.generate(["ab", "abcdefg", "q"], {
      n: 2,
      maxNewTokens: 8,
      seed: 5,
      stopAtEos: false,
    });
    const full = tf.tidy(() => {
      const tokens = tf.tensor2d(rollout.sequences, undefined, "int32");
      const attentionMask = tf.tensor2d(rollout.attentionMask);
      return policy
        .logProbs({ tokens, attentionMask, responseStart: rollout.promptLength })
        .logProbs.arraySync();
    });
    expect(rollout.responseLength).toBe(8);
    for (let row = 0; row < rollout.batchSize; row++) {
      for (let j = 0; j < rollout.responseLength; j++) {
        expect(Math.abs(full[row]![j]! - rollout.logProbs[row]![j]!)).toBeLessThan(1e-4);
      }
    }
  });

  it("rejects prompts that do not fit the context", async () => {
    await expect(policy.generate(["abc"], { maxNewTokens: 30 })).rejects.toThrow(InvalidArgumentError);
  });

  it("refuses weights of the wrong shape, naming them", () => {
    const weights = policy.getWeights();
    weights.set("lm_head.bias", { shape: [3], data: new Float32Array(3) });
    weights.delete("final_ln.gain");
    expect(() => policy.setWeights(weights)).toThrow(CheckpointError);
    expect(() => policy.setWeights(weights)).toThrow(
      /lm_head\.bias.*\[3\].*final_ln\.gain|final_ln\.gain.*lm_head\.bias/,
    );
  });
});
