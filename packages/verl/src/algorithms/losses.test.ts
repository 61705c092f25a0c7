import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { expectClose } from "../internal/testing/expect-close.js";
import { backendsForTests } from "../internal/testing/test-backends.js";
import { AdaptiveKlController, FixedKlController } from "./adaptive-kl-controller.js";
import { entropyFromLogits } from "./entropy.js";
import { explainedVariance } from "./explained-variance.js";
import { estimateKl } from "./kl-estimators.js";
import { aggregateLoss } from "./loss-aggregation.js";
import { softOverlongPenalty } from "./overlong-penalty.js";
import { clippedSurrogate, computePolicyLoss } from "./policy-loss.js";
import { computeValueLoss } from "./value-loss.js";

const backends = await backendsForTests();

describe.each(backends)("on the %s backend", (backend) => {
  beforeAll(async () => {
    await tf.setBackend(backend);
  });

  describe("clipped surrogate (V4)", () => {
    const logRatios = [Math.log(1.5), -Math.LN2, -Math.LN2, Math.log(1.5), Math.log(5), 0];
    const logProbs = tf.tensor2d([logRatios.map((r) => r - 1)]);
    const oldLogProbs = tf.fill([1, 6], -1);
    const advantages = tf.tensor2d([[1, 1, -1, -1, -1, 0.5]]);
    const mask = tf.ones([1, 6]);
    const base = { logProbs, oldLogProbs, advantages, mask };

    it("ε = 0.2 without dual-clip", () => {
      const surrogate = clippedSurrogate({ ...base, clipLow: 0.2 });
      expectClose(surrogate.losses, [[-1.2, -0.5, 0.8, 1.5, 5.0, -0.5]]);
      const result = computePolicyLoss({ ...base, clipLow: 0.2 });
      expectClose(result.loss, 0.85);
      expectClose(result.clipFraction, 1 / 3);
      expectClose(result.clipFractionLower, 0);
      expectClose(result.approxKl, -logRatios.reduce((a, b) => a + b) / 6);
    });

    it("actor/approx_kl is the k3 mean of (ρ − 1) − log ρ: positive where the signed k1 of actor/ppo_kl is not", () => {
      const result = computePolicyLoss({ ...base, clipLow: 0.2 });
      // ρ = 1.5, 0.5, 0.5, 1.5, 5, 1: the policy moved on five of six tokens, yet k1 = −mean(log ρ) < 0.
      expectClose(result.approxKl, -0.172346);
      expectClose(result.lowVarianceKl, 0.494321);
      // Over the same mask as the other metrics: without the ρ = 5 token, the mean of the other five.
      const masked = computePolicyLoss({ ...base, mask: tf.tensor2d([[1, 1, 1, 1, 0, 1]]) });
      expectClose(masked.lowVarianceKl, 0.115073);
      // An unmoved policy gives exactly 0, never a rounding below it.
      const still = computePolicyLoss({ ...base, logProbs: oldLogProbs });
      expect(still.lowVarianceKl.dataSync()[0]).toBe(0);
    });

    it("ε = 0.2 with dual-clip c = 3", () => {
      const surrogate = clippedSurrogate({ ...base, clipLow: 0.2, dualClip: 3 });
      expectClose(surrogate.losses, [[-1.2, -0.5, 0.8, 1.5, 3.0, -0.5]]);
      const result = computePolicyLoss({ ...base, clipLow: 0.2, dualClip: 3 });
      expectClose(result.loss, 0.516667);
      expectClose(result.clipFraction, 1 / 3);
      expectClose(result.clipFractionLower, 1 / 6);
    });

    it("clip-higher ε_low = 0.2, ε_high = 0.28 with dual-clip", () => {
      const surrogate = clippedSurrogate({ ...base, clipLow: 0.2, clipHigh: 0.28, dualClip: 3 });
      expectClose(surrogate.losses, [[-1.28, -0.5, 0.8, 1.5, 3.0, -0.5]]);
      expectClose(computePolicyLoss({ ...base, clipLow: 0.2, clipHigh: 0.28, dualClip: 3 }).loss, 0.503333);
    });

    it("at ratio 1 the loss is −mean(A) and the gradient is −A/n per token", () => {
      const current = tf.variable(tf.fill([1, 4], -1));
      const adv = tf.tensor2d([[1, -1, 2, 0]]);
      const grads = tf.grads(
        (lp: tf.Tensor) =>
          computePolicyLoss({
            logProbs: lp,
            oldLogProbs: tf.fill([1, 4], -1),
            advantages: adv,
            mask: tf.ones([1, 4]),
          }).loss,
      )([current]);
      expectClose(grads[0] as tf.Tensor, [[-0.25, 0.25, -0.5, 0]]);
    });

    it("rejects a dual-clip constant ≤ 1", () => {
      expect(() => clippedSurrogate({ ...base, dualClip: 1 })).toThrow(/dualClip/);
    });
  });

  describe("clipped value loss (V5)", () => {
    const values = tf.tensor2d([[0.9, 0.45, 0.1]]);
    const oldValues = tf.tensor2d([[0.5, 0.5, 0.5]]);
    const returns = tf.tensor2d([[1.0, 0.0, 0.6]]);
    const mask = tf.ones([1, 3]);

    it("ε_v = 0.2", () => {
      const result = computeValueLoss({ values, oldValues, returns, mask, clipRange: 0.2 });
      expectClose(result.loss, 0.090417);
      expectClose(result.clipFraction, 1 / 3);
    });

    it("ε_v = 0.5 clips nothing", () => {
      const result = computeValueLoss({ values, oldValues, returns, mask, clipRange: 0.5 });
      expectClose(result.loss, 0.077083);
      expectClose(result.clipFraction, 0);
      expectClose(computeValueLoss({ values, oldValues, returns, mask, clipRange: null }).loss, 0.077083);
    });

    it("explained variance is 1 for a perfect critic and ≤ 0 for a constant one", () => {
      const target = tf.tensor2d([[1, 2, 3, 4]]);
      const all = tf.ones([1, 4]);
      expectClose(explainedVariance(target, target, all), 1, 1e-4);
      expectClose(explainedVariance(target, tf.fill([1, 4], 2.5), all), 0, 1e-4);
    });
  });

  describe("KL estimators (V6)", () => {
    const logProbs = tf.tensor1d([-1.0, -2.0, -0.5, -3.0]);
    const refLogProbs = tf.tensor1d([-1.2, -1.5, -0.5, -0.1]);

    it("k1, abs, k2, k3 and verl's clamped k3", () => {
      expectClose(estimateKl(logProbs, refLogProbs, "k1"), [0.2, -0.5, 0, -2.9]);
      expectClose(estimateKl(logProbs, refLogProbs, "abs"), [0.2, 0.5, 0, 2.9]);
      expectClose(estimateKl(logProbs, refLogProbs, "k2"), [0.02, 0.125, 0, 4.205]);
      expectClose(estimateKl(logProbs, refLogProbs, "k3"), [0.018731, 0.148721, 0, 14.274145], 1e-4);
      expectClose(tf.mean(estimateKl(logProbs, refLogProbs, "k3")), 3.610399, 1e-4);
      expectClose(estimateKl(logProbs, refLogProbs, "k3", { clamp: true }), [0.018731, 0.148721, 0, 10]);
    });
  });

  describe("loss aggregation (V7)", () => {
    const losses = tf.tensor2d([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const mask = tf.tensor2d([
      [1, 1, 1],
      [1, 0, 0],
    ]);

    it("the four modes", () => {
      expectClose(aggregateLoss(losses, mask, "token-mean"), 2.5);
      expectClose(aggregateLoss(losses, mask, "seq-mean-token-sum"), 5);
      expectClose(aggregateLoss(losses, mask, "seq-mean-token-mean"), 3);
      expectClose(aggregateLoss(losses, mask, "seq-mean-token-sum-norm"), 10 / 3);
      expectClose(aggregateLoss(losses, mask, "seq-mean-token-sum-norm", { normalizer: 6 }), 1.666667);
    });

    it("implied per-token weights", () => {
      const variable = tf.variable(losses);
      const gradTokenMean = tf.grad((x: tf.Tensor) => aggregateLoss(x, mask, "token-mean"))(variable);
      expectClose(gradTokenMean, [
        [0.25, 0.25, 0.25],
        [0.25, 0, 0],
      ]);
      const gradSeqMean = tf.grad((x: tf.Tensor) => aggregateLoss(x, mask, "seq-mean-token-mean"))(variable);
      expectClose(gradSeqMean, [
        [1 / 6, 1 / 6, 1 / 6],
        [0.5, 0, 0],
      ]);
      variable.dispose();
    });

    it("empty sequences are not counted", () => {
      const sparse = tf.tensor2d([
        [1, 1, 1],
        [0, 0, 0],
      ]);
      expectClose(aggregateLoss(losses, sparse, "seq-mean-token-sum"), 6);
      expectClose(aggregateLoss(losses, tf.zeros([2, 3]), "token-mean"), 0);
    });
  });

  describe("adaptive KL controller (V8)", () => {
    it("moves β by the clipped proportional error", () => {
      const controller = new AdaptiveKlController({ initial: 0.1, target: 0.1, horizon: 10_000 });
      const expected = [0.100512, 0.099997, 0.100253, 0.100253];
      [0.15, 0.05, 0.11, 0.1].forEach((kl, i) => {
        controller.update(kl, 256);
        expectClose(controller.value, expected[i] as number, 1e-6);
      });
    });

    it("a fixed controller never moves and bad options are rejected", () => {
      const fixed = new FixedKlController(0.05);
      fixed.update(10, 256);
      expect(fixed.value).toBe(0.05);
      expect(() => new AdaptiveKlController({ initial: 0.1, target: 0, horizon: 1 })).toThrow(/target/);
    });
  });

  describe("DAPO soft overlong penalty (V9)", () => {
    it("ramps from 0 to −factor over the buffer", () => {
      expect(
        [10, 16, 17, 18, 20, 30].map((n) => softOverlongPenalty(n, { maxLength: 20, bufferLength: 4 })),
      ).toEqual([0, 0, -0.25, -0.5, -1, -1]);
    });
  });

  describe("entropy (V10)", () => {
    it("from logits", () => {
      expectClose(
        entropyFromLogits(
          tf.tensor2d([
            [2, 1, 0],
            [0, 0, 0],
          ]),
        ),
        [0.832396, 1.098612],
      );
    });
  });
});
