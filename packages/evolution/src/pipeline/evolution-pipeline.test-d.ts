import { describe, expectTypeOf, it } from "vitest";
import { HyperparameterStrategy } from "../hyperparameter/hyperparameter-strategy.js";
import { EvolutionStrategy, type MutationContext } from "../strategy/evolution-strategy.js";
import type { EvolutionPhase } from "./evolution-phase.js";
import { EvolutionPipeline } from "./evolution-pipeline.js";
import type { EvolutionResult } from "./evolution-result.js";

describe("EvolutionPipeline types", () => {
  it("infers the candidate type from a plain-object strategy", () => {
    const pipeline = new EvolutionPipeline({
      strategy: {
        evaluate: (candidate: { prompt: string }) => candidate.prompt.length,
        mutate: (candidate: { prompt: string }, { rng }: MutationContext) => ({
          prompt: `${candidate.prompt}${rng.next()}`,
        }),
      },
    });
    expectTypeOf(pipeline).toEqualTypeOf<EvolutionPipeline<{ prompt: string }>>();
    expectTypeOf(pipeline.run([{ prompt: "hi" }])).resolves.toEqualTypeOf<
      EvolutionResult<{ prompt: string }>
    >();
    expectTypeOf(pipeline.phase).toEqualTypeOf<EvolutionPhase>();
    // @ts-expect-error the initial population must hold candidates
    pipeline.run([42]);
  });

  it("takes a subclass of the abstract strategy", () => {
    class Numbers extends EvolutionStrategy<number> {
      evaluate(x: number) {
        return -x;
      }
      mutate(x: number) {
        return x + 1;
      }
    }
    expectTypeOf(new EvolutionPipeline({ strategy: new Numbers() })).toEqualTypeOf<
      EvolutionPipeline<number>
    >();
    // @ts-expect-error a strategy needs mutate
    new EvolutionPipeline({ strategy: { evaluate: (x: number) => x } });
  });

  it("types hyper-parameter points from the search space", () => {
    const strategy = new HyperparameterStrategy({
      space: {
        learningRate: { type: "float", min: 1e-5, max: 1e-2, scale: "log" },
        layers: { type: "int", min: 1, max: 4 },
        algorithm: { type: "categorical", values: ["ppo", "grpo"] },
      },
      evaluate: (params) => {
        expectTypeOf(params).toEqualTypeOf<{
          learningRate: number;
          layers: number;
          algorithm: "ppo" | "grpo";
        }>();
        return params.learningRate;
      },
    });
    const result = new EvolutionPipeline({ strategy }).run([]);
    expectTypeOf(result).resolves.toHaveProperty("best").toEqualTypeOf<{
      learningRate: number;
      layers: number;
      algorithm: "ppo" | "grpo";
    }>();
  });
});
