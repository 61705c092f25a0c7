import { InvalidArgumentError, parseWith, type SeededRandom } from "@orbiter/types";
import {
  type CreationContext,
  type CrossoverContext,
  type EvaluationContext,
  EvolutionStrategy,
  type MutationContext,
} from "../strategy/evolution-strategy.js";
import { type ParameterSpec, type Params, SearchSpace } from "./search-space.js";

/** Options of {@link HyperparameterStrategy}. */
export interface HyperparameterStrategyOptions<S extends SearchSpace> {
  /** The parameters to search. */
  space: S;
  /** Scores one point (higher is better), e.g. a short training run with these settings. */
  evaluate: (params: Params<S>, context: EvaluationContext) => number | Promise<number>;
  /**
   * Standard deviation of the Gaussian mutation of numeric parameters, as a share of their range (on their
   * scale: a log-scale parameter moves by a share of its orders of magnitude). @default 0.1
   */
  mutationScale?: number | undefined;
}

/** Numeric spec in the space where it is searched. */
function toSearch(spec: ParameterSpec & { type: "float" | "int" }, value: number): number {
  return spec.scale === "log" ? Math.log(value) : value;
}

function fromSearch(spec: ParameterSpec & { type: "float" | "int" }, value: number): number {
  const raw = spec.scale === "log" ? Math.exp(value) : value;
  const bounded = Math.min(spec.max, Math.max(spec.min, raw));
  // Integer bounds: rounding a value within them stays within them.
  return spec.type === "int" ? Math.round(bounded) : bounded;
}

/**
 * Evolves hyper-parameter settings: numeric parameters (float or int, linear or log scale, bounded) and
 * categorical ones. `create` samples uniformly (on each parameter's scale), `mutate` changes each parameter with
 * probability `mutationRate` — numeric ones by a Gaussian step clipped to the bounds (integers rounded),
 * categorical ones to another value — and returns a point that differs from its parent; `crossover` takes each
 * parameter from either parent with equal odds.
 *
 * @example
 * ```ts
 * const strategy = new HyperparameterStrategy({
 *   space: {
 *     learningRate: { type: "float", min: 1e-5, max: 1e-2, scale: "log" },
 *     klCoef: { type: "float", min: 0, max: 0.5 },
 *     algorithm: { type: "categorical", values: ["ppo", "grpo"] },
 *   },
 *   evaluate: async (params) => (await shortTrainingRun(params)).reward,
 * });
 * const result = await new EvolutionPipeline({ config: { epochs: 5, populationSize: 8 }, strategy }).run([]);
 * ```
 */
export class HyperparameterStrategy<const S extends SearchSpace> extends EvolutionStrategy<Params<S>> {
  /** The parsed search space. */
  readonly space: Readonly<Record<keyof S & string, ParameterSpec>>;
  /** Parameter names, in the order of the space. */
  readonly names: ReadonlyArray<keyof S & string>;
  private readonly scoreFn: HyperparameterStrategyOptions<S>["evaluate"];
  private readonly mutationScale: number;

  /** @throws InvalidArgumentError naming the field (`space.learningRate.min`, `evaluate`, `mutationScale`) */
  constructor(options: HyperparameterStrategyOptions<S>) {
    super();
    this.space = parseWith(SearchSpace, options?.space, { what: "search space", path: "space" }) as Record<
      keyof S & string,
      ParameterSpec
    >;
    this.names = Object.keys(this.space) as Array<keyof S & string>;
    if (typeof options.evaluate !== "function") {
      throw new InvalidArgumentError("HyperparameterStrategy needs an evaluate function", {
        field: "evaluate",
      });
    }
    this.scoreFn = options.evaluate;
    const scale = options.mutationScale ?? 0.1;
    if (!(scale > 0) || !Number.isFinite(scale)) {
      throw new InvalidArgumentError(`mutationScale must be a positive number, got ${scale}`, {
        field: "mutationScale",
        value: scale,
      });
    }
    this.mutationScale = scale;
  }

  /** Scores `params` with the `evaluate` function given to the constructor (after checking them). */
  evaluate(params: Params<S>, context: EvaluationContext): number | Promise<number> {
    return this.scoreFn(this.check(params), context);
  }

  /** A uniformly random point of the space. */
  sample(rng: SeededRandom): Params<S> {
    const out: Record<string, unknown> = {};
    for (const name of this.names) {
      const spec = this.space[name];
      if (spec.type === "categorical") {
        out[name] = rng.choice(spec.values);
      } else if (spec.type === "int") {
        // Linear: every integer equally likely. Log: uniform in [ln min, ln(max + 1)), floored.
        out[name] =
          spec.scale === "linear"
            ? rng.integer(spec.min, spec.max)
            : Math.min(
                spec.max,
                Math.floor(Math.exp(rng.uniform(Math.log(spec.min), Math.log(spec.max + 1)))),
              );
      } else {
        out[name] = fromSearch(spec, rng.uniform(toSearch(spec, spec.min), toSearch(spec, spec.max)));
      }
    }
    return out as Params<S>;
  }

  /** @see EvolutionStrategy.create */
  override create(context: CreationContext): Params<S> {
    return this.sample(context.rng);
  }

  /**
   * Changes each parameter with probability `mutationRate` (at least one when the rate is above 0). A change that
   * rounding or the bounds undo is drawn again (up to 16 times), so a mutant differs from its parent unless the
   * space leaves no room.
   */
  override mutate(params: Params<S>, context: MutationContext): Params<S> {
    const current = this.check(params) as Record<string, unknown>;
    if (context.mutationRate <= 0) return { ...current } as Params<S>;
    const parentKey = this.key(params);
    let child = this.mutateOnce(current, context);
    for (let attempt = 1; attempt < 16 && this.key(child) === parentKey; attempt++) {
      child = this.mutateOnce(current, context);
    }
    return child;
  }

  private mutateOnce(current: Record<string, unknown>, { rng, mutationRate }: MutationContext): Params<S> {
    const chosen = this.names.filter(() => rng.bernoulli(mutationRate));
    if (chosen.length === 0) chosen.push(rng.choice(this.names));
    const out: Record<string, unknown> = { ...current };
    for (const name of chosen) {
      const spec = this.space[name];
      if (spec.type === "categorical") {
        const others = spec.values.filter((value) => value !== current[name]);
        if (others.length > 0) out[name] = rng.choice(others);
      } else {
        const low = toSearch(spec, spec.min);
        const high = toSearch(spec, spec.max);
        const sigma = this.mutationScale * (high - low);
        const moved = toSearch(spec, current[name] as number) + rng.normal(0, sigma);
        out[name] = fromSearch(spec, Math.min(high, Math.max(low, moved)));
      }
    }
    return out as Params<S>;
  }

  /** @see EvolutionStrategy.crossover */
  override crossover(first: Params<S>, second: Params<S>, context: CrossoverContext): Params<S> {
    const a = this.check(first) as Record<string, unknown>;
    const b = this.check(second) as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const name of this.names) out[name] = context.rng.bernoulli(0.5) ? a[name] : b[name];
    return out as Params<S>;
  }

  /** @see EvolutionStrategy.key */
  override key(params: Params<S>): string {
    const record = params as Record<string, unknown>;
    return JSON.stringify(this.names.map((name) => record[name]));
  }

  /**
   * Checks that `params` has a valid value for every parameter (numbers within bounds, integers for `int`,
   * one of the values for `categorical`) and returns it; throws an `InvalidArgumentError` naming the parameter.
   */
  check(params: Params<S>): Params<S> {
    if (params === null || typeof params !== "object") {
      throw new InvalidArgumentError("Parameters must be an object", { field: "params", value: params });
    }
    const record = params as Record<string, unknown>;
    for (const name of this.names) {
      const spec = this.space[name];
      const value = record[name];
      const field = `params.${name}`;
      if (spec.type === "categorical") {
        if (!spec.values.includes(value as string | number | boolean)) {
          throw new InvalidArgumentError(`${field} must be one of ${JSON.stringify(spec.values)}`, {
            field,
            value,
          });
        }
      } else if (
        typeof value !== "number" ||
        !(value >= spec.min && value <= spec.max) ||
        (spec.type === "int" && !Number.isInteger(value))
      ) {
        throw new InvalidArgumentError(
          `${field} must be ${spec.type === "int" ? "an integer" : "a number"} in [${spec.min}, ${spec.max}]`,
          {
            field,
            value,
          },
        );
      }
    }
    return params;
  }
}
