/** The smallest transformer the trainer tests build: one layer, one head, 8 dimensions, 8 positions. */
export const tinyModel = { dModel: 8, nHeads: 1, nLayers: 1, dMlp: 16, contextLength: 8 } as const;

/** A one-step GRPO run on {@link tinyModel}: two prompts a batch, two responses each, two new tokens. */
export const tinyGrpoConfig = {
  algorithm: "grpo",
  batchSize: 2,
  groupSize: 2,
  maxNewTokens: 2,
  maxSteps: 1,
  model: tinyModel,
} as const;
