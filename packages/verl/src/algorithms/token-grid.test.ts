import { fieldOf } from "@orbiter/test-support";
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { computeGaeAdvantage } from "./gae-advantage.js";
import { computeReinforcePlusPlusAdvantage } from "./reinforce-plus-plus-advantage.js";
import { tokenGridShape } from "./token-grid.js";

describe("the token grid of the advantage estimators' host loops", () => {
  const mask = tf.tensor2d([
    [1, 1, 0],
    [1, 0, 0],
  ]);
  const grid = tf.zeros([2, 3]);
  const short = tf.zeros([2, 2]);
  const flat = tf.zeros([6]);

  it("returns [B, T] of the mask when every tensor matches it", () => {
    expect(tokenGridShape(mask, { tokenRewards: grid, values: grid })).toEqual([2, 3]);
  });

  it("refuses a mask that is not [B, T] and a tensor of another shape, naming the field", () => {
    expect(fieldOf(() => tokenGridShape(flat, {}))).toBe("mask");
    expect(fieldOf(() => tokenGridShape(mask, { tokenRewards: grid, values: short }))).toBe("values");
    expect(fieldOf(() => tokenGridShape(mask, { tokenRewards: flat }))).toBe("tokenRewards");
  });

  it("GAE and REINFORCE++ refuse rewards or values that do not cover the mask (no NaN read past the end)", () => {
    const before = tf.memory().numTensors;
    expect(fieldOf(() => computeGaeAdvantage({ tokenRewards: short, values: grid, mask }))).toBe(
      "tokenRewards",
    );
    expect(fieldOf(() => computeGaeAdvantage({ tokenRewards: grid, values: short, mask }))).toBe("values");
    expect(fieldOf(() => computeReinforcePlusPlusAdvantage({ tokenRewards: short, mask }))).toBe(
      "tokenRewards",
    );
    expect(fieldOf(() => computeReinforcePlusPlusAdvantage({ tokenRewards: grid, mask: flat }))).toBe("mask");
    expect(tf.memory().numTensors).toBe(before);
  });
});
