import { InvalidArgumentError } from "@orbiter/types";
import type { EvolutionStrategy } from "./evolution-strategy.js";

const requiredMethods = ["evaluate", "mutate"] as const;
const optionalMethods = ["select", "crossover", "key", "create", "encode", "decode"] as const;

/**
 * Checks that `value` is a strategy: an object with `evaluate` and `mutate` methods, whose optional members
 * (`select`, `crossover`, `key`, `create`, `encode`, `decode`) are functions when given.
 *
 * @throws InvalidArgumentError naming the member (`strategy.mutate`)
 */
export function checkStrategy<C>(value: unknown): EvolutionStrategy<C> {
  if (value === null || typeof value !== "object") {
    throw new InvalidArgumentError("EvolutionPipeline needs a strategy object", { field: "strategy", value });
  }
  const methods = value as Record<string, unknown>;
  for (const name of requiredMethods) {
    if (typeof methods[name] !== "function") {
      throw new InvalidArgumentError(`The strategy has no ${name}() method`, { field: `strategy.${name}` });
    }
  }
  for (const name of optionalMethods) {
    if (methods[name] !== undefined && typeof methods[name] !== "function") {
      throw new InvalidArgumentError(`strategy.${name} must be a function when given`, {
        field: `strategy.${name}`,
      });
    }
  }
  return value as EvolutionStrategy<C>;
}
