import { AbortedError, InvalidArgumentError } from "@orbiter/types";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../backend/init-backend.js";
import { backendsForTests } from "../internal/testing/test-backends.js";
import { TransformerPolicy } from "../model/transformer-policy.js";
import { CharTokenizer } from "../tokenizer/char-tokenizer.js";
import { supervisedFineTune } from "./supervised-fine-tune.js";

const backends = await backendsForTests();
const tokenizer = CharTokenizer.fromCorpus(["abcdef>"]);

describe.each(backends)("supervisedFineTune on %s", (backend) => {
  beforeAll(async () => {
    await initBackend({ backend });
  });

  it("rejects bad samples and options, and honours an abort signal", async () => {
    const policy = new TransformerPolicy({
      tokenizer,
      config: { contextLength: 8, dModel: 8, nHeads: 2, nLayers: 1, dMlp: 8 },
    });
    await expect(supervisedFineTune(policy, [])).rejects.toThrow(InvalidArgumentError);
    await expect(supervisedFineTune(policy, [{ input: "abcdef", output: "abcdef" }])).rejects.toThrow(
      /samples\[0\]/,
    );
    await expect(
      supervisedFineTune(policy, [{ input: "a", output: 3 as unknown as string }]),
    ).rejects.toThrow(/samples\[0\]\.output/);
    await expect(supervisedFineTune(policy, [{ input: "a", output: "b" }], { epochs: 0 })).rejects.toThrow(
      /options\.epochs/,
    );
    const controller = new AbortController();
    controller.abort();
    const before = tf.memory().numTensors;
    await expect(
      supervisedFineTune(policy, [{ input: "a", output: "b" }], { signal: controller.signal }),
    ).rejects.toThrow(AbortedError);
    expect(tf.memory().numTensors).toBe(before);
    const frozen = policy.clone({ frozen: true });
    await expect(supervisedFineTune(frozen, [{ input: "a", output: "b" }])).rejects.toThrow(/frozen/);
    frozen.dispose();
    policy.dispose();
  });
});
