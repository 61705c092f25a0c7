import { InvalidArgumentError } from "@orbiter/types";
import type { TrainMetricsInput } from "../metrics/train-metrics.js";

/** A subclass's `train` or `evaluate`. */
type PhaseMethod = (...args: unknown[]) => Promise<TrainMetricsInput>;

/** The two phases a trainer routes through its state machine. */
export type PhaseName = "train" | "evaluate";

/** What {@link routePhases} installed: a way back to the subclass's own methods. */
export interface RoutedPhases {
  /** The subclass's method, even if a field assigned after the constructor replaced the route. */
  implementation(name: PhaseName): PhaseMethod;
}

const PHASES = ["train", "evaluate"] as const;

/**
 * Puts `train` and `evaluate` on the trainer instance as routes into its lifecycle (`run.train(args)` checks
 * the state, runs the subclass's method inside the phase, completes its metrics), so that a direct call
 * `trainer.train()` obeys the state machine as `run()` does. The subclass's own methods stay reachable through
 * the returned {@link RoutedPhases}.
 *
 * Why per instance: the guide's subclass defines `train()` and `evaluate()` itself, so its methods shadow any
 * method of the base class; only a property of the instance (or a changed prototype, which would also catch
 * `super.train()`) stands between a caller and them.
 *
 * @throws InvalidArgumentError naming the method when the subclass has no `train` or `evaluate` (plain JavaScript)
 */
export function routePhases(
  trainer: object,
  name: string,
  run: Record<PhaseName, (args: unknown[]) => Promise<unknown>>,
): RoutedPhases {
  const target = trainer as Record<PhaseName, unknown>;
  for (const method of PHASES) {
    if (typeof target[method] !== "function") {
      throw new InvalidArgumentError(`${name} must implement ${method}()`, { field: method });
    }
  }
  const own = { train: target.train as PhaseMethod, evaluate: target.evaluate as PhaseMethod };
  const routes = {
    train: (...args: unknown[]) => run.train(args),
    evaluate: (...args: unknown[]) => run.evaluate(args),
  };
  for (const method of PHASES) {
    Object.defineProperty(trainer, method, {
      value: routes[method],
      writable: true,
      configurable: true,
      enumerable: false,
    });
  }
  return {
    implementation(method) {
      const current = target[method];
      return current === routes[method] ? own[method] : (current as PhaseMethod);
    },
  };
}
