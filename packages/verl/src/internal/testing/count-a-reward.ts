/** A test reward: the share of `a`s in a response, counted against 4 (so 4 `a`s score 1). */
export const countA = {
  name: "count-a",
  weight: 1,
  fn: (output: string) => [...output].filter((c) => c === "a").length / 4,
};
