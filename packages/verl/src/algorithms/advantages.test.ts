import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { expectClose } from "../internal/testing/expect-close.js";
import { backendsForTests } from "../internal/testing/test-backends.js";
import { ADVANTAGE_ESTIMATORS } from "./advantage-estimators.js";
import { computeGaeAdvantage } from "./gae-advantage.js";
import { broadcastToTokens, computeGroupAdvantage, computeRlooAdvantage } from "./group-advantage.js";
import { maskedMean, maskedVariance, maskedWhiten } from "./masked-statistics.js";
import {
  computeReinforcePlusPlusAdvantage,
  computeReinforcePlusPlusBaselineAdvantage,
} from "./reinforce-plus-plus-advantage.js";
import { computeTokenLevelRewards } from "./token-level-rewards.js";

const backends = await backendsForTests();

describe.each(backends)("on the %s backend", (backend) => {
  beforeAll(async () => {
    await tf.setBackend(backend);
  });

  describe("masked statistics", () => {
    it("uses the unbiased variance over valid positions only", () => {
      const values = tf.tensor2d([
        [1, 2, 100],
        [3, 4, -100],
      ]);
      const mask = tf.tensor2d([
        [1, 1, 0],
        [1, 1, 0],
      ]);
      expectClose(maskedMean(values, mask), 2.5);
      expectClose(maskedVariance(values, mask), 5 / 3);
      expectClose(maskedVariance(values, mask, false), 1.25);
      expectClose(maskedMean(values, mask, 1), [1.5, 3.5]);
      const whitened = maskedWhiten(values, mask);
      expectClose(whitened, [
        [-1.5 / Math.sqrt(5 / 3), -0.5 / Math.sqrt(5 / 3), 0],
        [0.5 / Math.sqrt(5 / 3), 1.5 / Math.sqrt(5 / 3), 0],
      ]);
      tf.dispose([values, mask, whitened]);
    });

    it("gives 0, not NaN, when nothing is valid", () => {
      const values = tf.tensor1d([1, 2]);
      const mask = tf.zeros([2]);
      expectClose(maskedMean(values, mask), 0);
      expectClose(maskedWhiten(values, mask), [0, 0]);
    });
  });

  describe("GAE (V1)", () => {
    const rewards = tf.tensor2d([[0, 0, 0, 1]]);
    const values = tf.tensor2d([[0.5, 0.6, 0.7, 0.8]]);
    const mask = tf.ones([1, 4]);

    it("matches the raw advantages and returns with γ = 0.99, λ = 0.95", () => {
      const { advantages, returns } = computeGaeAdvantage({
        tokenRewards: rewards,
        values,
        mask,
        gamma: 0.99,
        lambda: 0.95,
        whiten: false,
      });
      expectClose(advantages, [[0.429226, 0.356434, 0.2801, 0.2]]);
      expectClose(returns, [[0.929226, 0.956434, 0.9801, 1.0]]);
    });

    it("the gae estimator whitens only when asked (whitenAdvantages)", () => {
      const input = {
        outcome: tf.tensor1d([1]),
        tokenRewards: rewards as tf.Tensor2D,
        mask: mask as tf.Tensor2D,
        valid: tf.tensor1d([1]),
        values: values as tf.Tensor2D,
        groupSize: 1,
        gamma: 0.99,
        lambda: 0.95,
        epsilon: 1e-6,
        normalizeStd: true,
        precomputed: null,
      };
      expectClose(ADVANTAGE_ESTIMATORS.gae({ ...input, whiten: false }).advantages, [
        [0.429226, 0.356434, 0.2801, 0.2],
      ]);
      expectClose(ADVANTAGE_ESTIMATORS.gae({ ...input, whiten: true }).advantages, [
        [1.143224, 0.405387, -0.36835, -1.180261],
      ]);
    });

    it("whitens with the unbiased variance", () => {
      const { advantages } = computeGaeAdvantage({
        tokenRewards: rewards,
        values,
        mask,
        gamma: 0.99,
        lambda: 0.95,
      });
      expectClose(advantages, [[1.143224, 0.405387, -0.36835, -1.180261]]);
    });

    it("γ = λ = 1 gives reward-to-go minus value", () => {
      const { advantages, returns } = computeGaeAdvantage({
        tokenRewards: rewards,
        values,
        mask,
        whiten: false,
      });
      expectClose(advantages, [[0.5, 0.4, 0.3, 0.2]]);
      expectClose(returns, [[1, 1, 1, 1]]);
    });

    it("V1b: trailing padding does not leak", () => {
      const { advantages, returns } = computeGaeAdvantage({
        tokenRewards: tf.tensor2d([[0, 0, 1, 0]]),
        values: tf.tensor2d([[0.5, 0.6, 0.7, 9.9]]),
        mask: tf.tensor2d([[1, 1, 1, 0]]),
        gamma: 0.99,
        lambda: 0.95,
        whiten: false,
      });
      expectClose(advantages, [[0.446829, 0.37515, 0.3, 0]]);
      expectClose(returns, [[0.946829, 0.97515, 1.0, 0]]);
      const whitened = computeGaeAdvantage({
        tokenRewards: tf.tensor2d([[0, 0, 1, 0]]),
        values: tf.tensor2d([[0.5, 0.6, 0.7, 9.9]]),
        mask: tf.tensor2d([[1, 1, 1, 0]]),
        gamma: 0.99,
        lambda: 0.95,
      });
      expectClose(whitened.advantages, [[0.992026, 0.01576, -1.007786, 0]]);
    });

    it("V1c: multi-turn observation tokens are skipped", () => {
      const { advantages, returns } = computeGaeAdvantage({
        tokenRewards: tf.tensor2d([[0, 0, 0, 0, 0, 1]]),
        values: tf.tensor2d([[0.5, 0.6, 99, -99, 0.7, 0.8]]),
        mask: tf.tensor2d([[1, 1, 0, 0, 1, 1]]),
        gamma: 0.99,
        lambda: 0.95,
        whiten: false,
      });
      expectClose(advantages, [[0.429226, 0.356434, 0, 0, 0.2801, 0.2]]);
      expectClose(returns, [[0.929226, 0.956434, 0, 0, 0.9801, 1.0]]);
    });

    it("drops a reward sitting on a masked token, and γλ = 0 gives the one-step TD error", () => {
      const dropped = computeGaeAdvantage({
        tokenRewards: tf.tensor2d([[0, 0, 5, 0, 0, 1]]),
        values: tf.tensor2d([[0.5, 0.6, 99, -99, 0.7, 0.8]]),
        mask: tf.tensor2d([[1, 1, 0, 0, 1, 1]]),
        gamma: 0.99,
        lambda: 0.95,
        whiten: false,
      });
      expectClose(dropped.advantages, [[0.429226, 0.356434, 0, 0, 0.2801, 0.2]]);
      const td = computeGaeAdvantage({
        tokenRewards: rewards,
        values,
        mask,
        gamma: 0.99,
        lambda: 0,
        whiten: false,
      });
      expectClose(td.advantages, [[0.094, 0.093, 0.092, 0.2]]);
    });

    it("handles a batch of rows independently", () => {
      const { advantages } = computeGaeAdvantage({
        tokenRewards: tf.tensor2d([
          [0, 0, 0, 1],
          [0, 0, 1, 0],
        ]),
        values: tf.tensor2d([
          [0.5, 0.6, 0.7, 0.8],
          [0.5, 0.6, 0.7, 9.9],
        ]),
        mask: tf.tensor2d([
          [1, 1, 1, 1],
          [1, 1, 1, 0],
        ]),
        gamma: 0.99,
        lambda: 0.95,
        whiten: false,
      });
      expectClose(advantages, [
        [0.429226, 0.356434, 0.2801, 0.2],
        [0.446829, 0.37515, 0.3, 0],
      ]);
    });
  });

  describe("group advantages (V2)", () => {
    const scores = tf.tensor1d([1, 0, 0, 0.5]);

    it("normalises by the sample std with verl, TRL and OpenRLHF epsilons", () => {
      expectClose(computeGroupAdvantage({ scores, groupSize: 4 }), [1.30558, -0.783348, -0.783348, 0.261116]);
      expectClose(
        computeGroupAdvantage({ scores, groupSize: 4, epsilon: 1e-4 }),
        [1.30531, -0.783186, -0.783186, 0.261062],
      );
      expectClose(
        computeGroupAdvantage({ scores, groupSize: 4, epsilon: 1e-9 }),
        [1.305582, -0.783349, -0.783349, 0.261116],
      );
    });

    it("Dr. GRPO only centres", () => {
      expectClose(
        computeGroupAdvantage({ scores, groupSize: 4, scaling: "none" }),
        [0.625, -0.375, -0.375, 0.125],
      );
    });

    it("RLOO uses the leave-one-out mean", () => {
      expectClose(computeRlooAdvantage({ scores, groupSize: 4 }), [0.833333, -0.5, -0.5, 0.166667]);
    });

    it("a zero-std group gives exactly 0 and a singleton follows verl", () => {
      const flat = computeGroupAdvantage({ scores: tf.tensor1d([1, 1, 1, 1]), groupSize: 4 });
      expect(flat.arraySync()).toEqual([0, 0, 0, 0]);
      expectClose(computeGroupAdvantage({ scores: tf.tensor1d([0.7]), groupSize: 1 }), [0.699999]);
    });

    it("batch scaling divides by the whole batch's std", () => {
      const batch = tf.tensor1d([1, 0, 0, 0.5, 0.2, 0.2, 0.2, 0.2]);
      expectClose(
        computeGroupAdvantage({ scores: batch, groupSize: 4, epsilon: 1e-4, scaling: "batch" }),
        [1.910416, -1.146249, -1.146249, 0.382083, 0, 0, 0, 0],
      );
    });

    it("groups are contiguous and independent", () => {
      const two = tf.tensor1d([1, 0, 0, 0.5, 5, 5, 5, 5]);
      expectClose(
        computeGroupAdvantage({ scores: two, groupSize: 4 }),
        [1.30558, -0.783348, -0.783348, 0.261116, 0, 0, 0, 0],
      );
    });

    it("missing scores are left out and get 0", () => {
      const withMissing = tf.tensor1d([1, 0, 0, 0.5, 123]);
      const valid = tf.tensor1d([1, 1, 1, 1, 0]);
      // groups of 5 with the fifth missing behave like the group of 4
      expectClose(
        computeGroupAdvantage({ scores: withMissing, groupSize: 5, valid }),
        [1.30558, -0.783348, -0.783348, 0.261116, 0],
      );
      expectClose(
        computeRlooAdvantage({ scores: withMissing, groupSize: 5, valid }),
        [0.833333, -0.5, -0.5, 0.166667, 0],
      );
    });

    it("rejects a group size that does not divide the batch", () => {
      expect(() => computeGroupAdvantage({ scores, groupSize: 3 })).toThrow(/groupSize/);
    });

    it("broadcasts to valid tokens", () => {
      expectClose(
        broadcastToTokens(
          tf.tensor1d([2, -1]),
          tf.tensor2d([
            [1, 1, 0],
            [1, 0, 0],
          ]),
        ),
        [
          [2, 2, 0],
          [-1, 0, 0],
        ],
      );
    });
  });

  describe("token-level rewards and REINFORCE++ (V10)", () => {
    it("places the score on the last valid token and subtracts β·KL", () => {
      const rewards = computeTokenLevelRewards({
        scores: tf.tensor1d([1, 2, 3]),
        mask: tf.tensor2d([
          [1, 1, 1, 1],
          [1, 1, 0, 0],
          [0, 0, 0, 0],
        ]),
        kl: tf.tensor2d([
          [0.1, -0.05, 0.2, 0],
          [1, 1, 1, 1],
          [1, 1, 1, 1],
        ]),
        klCoef: 0.1,
      });
      expectClose(rewards, [
        [-0.01, 0.005, -0.02, 1],
        [-0.1, 1.9, 0, 0],
        [0, 0, 0, 0],
      ]);
    });

    it("computes discounted returns with a reset after the end", () => {
      const mask = tf.ones([1, 4]);
      const plain = computeReinforcePlusPlusAdvantage({ tokenRewards: tf.tensor2d([[0, 0, 0, 1]]), mask });
      expectClose(plain.returns, [[1, 1, 1, 1]]);
      const withKl = computeReinforcePlusPlusAdvantage({
        tokenRewards: tf.tensor2d([[-0.01, 0.005, -0.02, 1]]),
        mask,
      });
      expectClose(withKl.returns, [[0.975, 0.985, 0.98, 1]]);
      // whitened over the valid tokens: mean 0.985, unbiased var
      const mean = 0.985;
      const values = [0.975, 0.985, 0.98, 1];
      const variance = values.reduce((sum, v) => sum + (v - mean) ** 2, 0) / 3;
      expectClose(withKl.advantages, [values.map((v) => (v - mean) / Math.sqrt(variance + 1e-8))], 1e-3);
      const padded = computeReinforcePlusPlusAdvantage({
        tokenRewards: tf.tensor2d([[0, 1, 7, 0]]),
        mask: tf.tensor2d([[1, 1, 0, 0]]),
      });
      expectClose(padded.returns, [[1, 1, 0, 0]]);
      // a masked token resets the running return: rewards after it never reach earlier tokens
      const reset = computeReinforcePlusPlusAdvantage({
        tokenRewards: tf.tensor2d([[1, 2, 4, 8]]),
        mask: tf.tensor2d([[1, 0, 1, 1]]),
        gamma: 0.5,
      });
      expectClose(reset.returns, [[1, 0, 8, 8]]);
    });

    it("gives the exact returns of a batch with padding, a mid-response mask and γ < 1, and leaks nothing", () => {
      // Rewards and γ are powers of two, so every G_t is a float32 exactly: known answers, compared exactly.
      const tokenRewards = tf.tensor2d([
        [0.25, -1, 2, 4, 8, 16],
        [1, 2, 4, 8, 0.5, -32],
        [3, 3, 3, 3, 3, 3],
      ]);
      const mask = tf.tensor2d([
        [1, 1, 1, 1, 0, 0],
        [1, 1, 0, 1, 1, 0],
        [0, 0, 0, 0, 0, 0],
      ]);
      const before = tf.memory().numTensors;
      const { returns, advantages } = computeReinforcePlusPlusAdvantage({ tokenRewards, mask, gamma: 0.5 });
      expect(tf.memory().numTensors - before).toBe(2);
      // Row 0: G_3 = 4, G_2 = 2 + 2, G_1 = −1 + 2, G_0 = 0.25 + 0.5; the padding's 8 and 16 never count.
      // Row 1: G_4 = 0.5, G_3 = 8.25; the masked token at 2 resets, so G_1 = 2 and G_0 = 2.
      // Row 2: nothing valid, all 0 (and 0 advantages, not NaN).
      expect(Array.from(returns.dataSync())).toEqual([
        0.75, 1, 4, 4, 0, 0, 2, 2, 0, 8.25, 0.5, 0, 0, 0, 0, 0, 0, 0,
      ]);
      const valid = [0.75, 1, 4, 4, 2, 2, 8.25, 0.5];
      const mean = valid.reduce((sum, v) => sum + v, 0) / valid.length;
      const std = Math.sqrt(valid.reduce((sum, v) => sum + (v - mean) ** 2, 0) / (valid.length - 1) + 1e-8);
      const z = (v: number) => (v - mean) / std;
      expectClose(advantages, [
        [z(0.75), z(1), z(4), z(4), 0, 0],
        [z(2), z(2), 0, z(8.25), z(0.5), 0],
        [0, 0, 0, 0, 0, 0],
      ]);
      tf.dispose([tokenRewards, mask, returns, advantages]);
    });

    it("the baseline variant subtracts the group mean before whitening", () => {
      const advantages = computeReinforcePlusPlusBaselineAdvantage({
        scores: tf.tensor1d([1, 0, 3, 3]),
        mask: tf.tensor2d([
          [1, 1],
          [1, 0],
          [1, 1],
          [1, 1],
        ]),
        groupSize: 2,
      });
      // centred: [0.5, -0.5, 0, 0] on tokens [[.5,.5],[-.5,0],[0,0],[0,0]] → valid values .5,.5,-.5,0,0,0,0
      const valid = [0.5, 0.5, -0.5, 0, 0, 0, 0];
      const mean = valid.reduce((a, b) => a + b) / 7;
      const std = Math.sqrt(valid.reduce((a, b) => a + (b - mean) ** 2, 0) / 6 + 1e-8);
      const z = (v: number) => (v - mean) / std;
      expectClose(advantages, [
        [z(0.5), z(0.5)],
        [z(-0.5), 0],
        [z(0), z(0)],
        [z(0), z(0)],
      ]);
    });
  });
});
