import type { Sample } from "@orbiter/types";
import { describe, expectTypeOf, it } from "vitest";
import {
  augmentAddNoise,
  type DeduplicateOptions,
  deduplicate,
  type SynthesisConfigInput,
  SynthesisPipeline,
  type SynthesisResult,
  splitDataset,
  TemplateSynthesiser,
} from "./index.js";

describe("public types", () => {
  it("splitDataset returns one typed array per ratio", () => {
    const samples: Sample[] = [];
    const [train, validation, test] = splitDataset(samples, { ratios: [0.8, 0.1, 0.1] });
    expectTypeOf(train).toEqualTypeOf<Sample[]>();
    expectTypeOf(validation).toEqualTypeOf<Sample[]>();
    expectTypeOf(test).toEqualTypeOf<Sample[]>();
    expectTypeOf(splitDataset([1, 2], { ratios: [0.5, 0.5] })).toEqualTypeOf<[number[], number[]]>();
  });

  it("configs take the input form with defaults optional", () => {
    expectTypeOf<{ targetSize: 10 }>().toExtend<SynthesisConfigInput>();
    expectTypeOf<{ target_size: 10 }>().not.toExtend<SynthesisConfigInput>();
    expectTypeOf(new SynthesisPipeline().run).parameter(0).toExtend<unknown>();
    expectTypeOf(new SynthesisPipeline().run([])).toEqualTypeOf<Promise<SynthesisResult>>();
    expectTypeOf(new SynthesisPipeline().run({ toSamples: () => [] as Sample[] })).toEqualTypeOf<
      Promise<SynthesisResult>
    >();
  });

  it("functions accept zod-parsed samples whose optional fields are present but undefined", () => {
    const parsed = [{ id: "a", input: "q", output: "a", score: undefined, metadata: {} }];
    expectTypeOf(deduplicate(parsed, { threshold: 0.9 })).items.toHaveProperty("input");
    expectTypeOf(augmentAddNoise(parsed, { noiseLevel: 0.1, seed: 1 })).items.toHaveProperty("input");
  });

  it("synthesisers and functions keep sample types", () => {
    expectTypeOf(new TemplateSynthesiser({ templates: ["x"] }).generate(1)).toEqualTypeOf<
      Promise<Sample[]>
    >();
    type Tagged = { input: string; output: string; tag: number };
    expectTypeOf(deduplicate([] as Tagged[], { key: (s) => String(s.tag) })).toEqualTypeOf<Tagged[]>();
    expectTypeOf<DeduplicateOptions<Tagged>["key"]>().toEqualTypeOf<
      "input" | "output" | "both" | ((sample: Tagged) => string) | undefined
    >();
  });
});
