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

const routes = new WeakSet<object>();

/**
 * Puts `train` and `evaluate` on the trainer instance as routes into its lifecycle (`run.train(args)` checks
 * the state, runs the subclass's method inside the phase, completes its metrics), so that a direct call
 * `trainer.train()` obeys the state machine as `run()` does. The subclass's own methods stay reachable through
 * the returned {@link RoutedPhases}.
 *
 * @throws InvalidArgumentError naming the method when the subclass has no `train` or `evaluate` (plain JavaScript)
 */
export function routePhases(
  trainer: object,
  name: string,
  run: Record<PhaseName, (args: unknown[]) => Promise<unknown>>,
): RoutedPhases {
  const target = trainer as Record<PhaseName, unknown>;
  for (const method of ["train", "evaluate"] as const) {
    if (typeof target[method] !== "function") {
      throw new InvalidArgumentError(`${name} must implement ${method}()`, { field: method });
    }
  }
  const own = { train: target.train as PhaseMethod, evaluate: target.evaluate as PhaseMethod };
  for (const method of ["train", "evaluate"] as const) {
    const route = (...args: unknown[]) => run[method](args);
    routes.add(route);
    Object.defineProperty(trainer, method, {
      value: route,
      writable: true,
      configurable: true,
      enumerable: false,
    });
  }
  return {
    implementation(method) {
      const current = target[method] as PhaseMethod;
      return routes.has(current) ? own[method] : current;
    },
  };
}
