import { InvalidArgumentError } from "@orbiter/types";

/** A KL coefficient β that may adapt to the observed KL (verl `kl_ctrl`). */
export interface KlController {
  /** The current coefficient β (assignable, e.g. when resuming from a checkpoint). */
  value: number;
  /** Updates β from the KL measured on the last batch of `steps` responses. */
  update(currentKl: number, steps: number): void;
}

/** A constant KL coefficient (verl `FixedKLController`): `update` does nothing. */
export class FixedKlController implements KlController {
  /** The coefficient β. */
  value: number;

  /** @param value the KL coefficient β ≥ 0 */
  constructor(value: number) {
    if (!(value >= 0) || !Number.isFinite(value)) {
      throw new InvalidArgumentError(`KL coefficient must be finite and ≥ 0, got ${value}`, {
        field: "klCoef",
      });
    }
    this.value = value;
  }

  /** A fixed controller ignores the observed KL. */
  update(_currentKl: number, _steps: number): void {}
}

/** Options of {@link AdaptiveKlController}. */
export interface AdaptiveKlControllerOptions {
  /** Initial coefficient β₀. */
  initial: number;
  /** KL the controller steers towards. */
  target: number;
  /** How many responses it takes to move β by the full proportional error. */
  horizon: number;
}

/**
 * The adaptive KL controller of Ziegler et al. 2019 (verl `AdaptiveKLController`, identical in OpenRLHF):
 * e = clip(KL / target − 1, −0.2, 0.2) and β ← β·(1 + e·steps / horizon), called once per training step with the
 * batch KL and the number of responses in the batch.
 *
 * @example
 * ```ts
 * const controller = new AdaptiveKlController({ initial: 0.1, target: 0.1, horizon: 10_000 });
 * controller.update(0.15, 256); // β = 0.100512
 * ```
 */
export class AdaptiveKlController implements KlController {
  /** The current coefficient β. */
  value: number;
  /** The KL target. */
  readonly target: number;
  /** The horizon, in responses. */
  readonly horizon: number;

  constructor(options: AdaptiveKlControllerOptions) {
    const { initial, target, horizon } = options;
    if (!(initial >= 0) || !Number.isFinite(initial)) {
      throw new InvalidArgumentError(`initial KL coefficient must be finite and ≥ 0, got ${initial}`, {
        field: "initial",
      });
    }
    if (!(target > 0) || !Number.isFinite(target)) {
      throw new InvalidArgumentError(`KL target must be finite and > 0, got ${target}`, { field: "target" });
    }
    if (!(horizon > 0) || !Number.isFinite(horizon)) {
      throw new InvalidArgumentError(`KL horizon must be finite and > 0, got ${horizon}`, {
        field: "horizon",
      });
    }
    this.value = initial;
    this.target = target;
    this.horizon = horizon;
  }

  /** β ← β·(1 + clip(KL/target − 1, −0.2, 0.2)·steps/horizon). A non-finite KL leaves β unchanged. */
  update(currentKl: number, steps: number): void {
    if (!Number.isFinite(currentKl)) return;
    const error = Math.min(0.2, Math.max(-0.2, currentKl / this.target - 1));
    this.value *= 1 + (error * steps) / this.horizon;
  }
}

/**
 * The KL controller a config asks for: adaptive (verl `AdaptiveKLController`) from `klCoef` when `adaptiveKl` sets
 * a target and horizon, else fixed at `klCoef`.
 */
export function createKlController(config: {
  klCoef: number;
  adaptiveKl: { target: number; horizon: number } | null;
}): KlController {
  return config.adaptiveKl
    ? new AdaptiveKlController({
        initial: config.klCoef,
        target: config.adaptiveKl.target,
        horizon: config.adaptiveKl.horizon,
      })
    : new FixedKlController(config.klCoef);
}
