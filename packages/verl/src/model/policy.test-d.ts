import type { ChatModel } from "@orbiter/types";
import type * as tf from "@tensorflow/tfjs";
import { describe, expectTypeOf, it } from "vitest";
import type { ChatOptions, ChatResult } from "../chat/chat-policy.js";
import type { GenerateOptionsInput, GenerationResult } from "../rollout/generate-options.js";
import type { Tokenizer } from "../tokenizer/tokenizer.js";
import type { LogProbsOutput, Policy } from "./policy.js";
import type { TransformerPolicy } from "./transformer-policy.js";

describe("Policy contract", () => {
  it("is implemented by TransformerPolicy, clones included", () => {
    expectTypeOf<TransformerPolicy>().toExtend<Policy>();
    expectTypeOf<TransformerPolicy["clone"]>().returns.toEqualTypeOf<TransformerPolicy>();
    expectTypeOf<Policy["specificationVersion"]>().toEqualTypeOf<"v1">();
    expectTypeOf<Policy["tokenizer"]>().toEqualTypeOf<Tokenizer>();
  });

  it("returns tensors from logProbs and host data from generate", () => {
    expectTypeOf<LogProbsOutput["logProbs"]>().toEqualTypeOf<tf.Tensor2D>();
    expectTypeOf<LogProbsOutput["entropy"]>().toEqualTypeOf<tf.Tensor2D | undefined>();
    expectTypeOf<Awaited<ReturnType<Policy["generate"]>>>().toEqualTypeOf<GenerationResult>();
    expectTypeOf<GenerationResult["sequences"]>().toEqualTypeOf<number[][]>();
  });

  it("takes every generation option as optional", () => {
    expectTypeOf<Record<string, never>>().toExtend<GenerateOptionsInput>();
    expectTypeOf<{ n: number; topK: number }>().toExtend<GenerateOptionsInput>();
  });

  it("chats: TransformerPolicy is a ChatModel with chat(messages, options)", () => {
    expectTypeOf<TransformerPolicy>().toExtend<ChatModel>();
    expectTypeOf<TransformerPolicy["chat"]>().returns.toEqualTypeOf<Promise<ChatResult>>();
    expectTypeOf<TransformerPolicy["chat"]>().parameter(1).toEqualTypeOf<ChatOptions | undefined>();
    expectTypeOf<{
      tools: [];
      maxNewTokens: 8;
      temperature: 0.7;
      topP: 0.9;
      seed: 1;
    }>().toExtend<ChatOptions>();
    // A custom Policy need not chat: ChatPolicy wraps any Policy.
    expectTypeOf<Policy>().not.toHaveProperty("chat");
  });
});
