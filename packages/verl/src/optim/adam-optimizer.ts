import { CheckpointError, InvalidArgumentError, InvalidStateError, parseWith } from "@orbiter/types";
import * as tf from "@tensorflow/tfjs";
import { z } from "zod";
import type { HostTensor } from "../checkpoint/host-tensor.js";
import { fitsFusedAdam, fusedAdamStep } from "../internal/fused-adam.js";
import type { NamedParameter } from "../model/named-parameter.js";

/** Options of {@link AdamOptimizer} (PyTorch's Adam, with optional decoupled weight decay as AdamW). */
export const AdamOptions = z.strictObject({
  /** Step size. @default 0.001 */
  learningRate: z.number().positive().finite().default(1e-3),
  /** Decay of the first-moment average. @default 0.9 */
  beta1: z.number().min(0).lt(1).default(0.9),
  /** Decay of the second-moment average. @default 0.999 */
  beta2: z.number().min(0).lt(1).default(0.999),
  /** Added to the denominator for stability. @default 1e-8 */
  epsilon: z.number().positive().default(1e-8),
  /** Decoupled weight decay (AdamW); 0 turns it off. @default 0 */
  weightDecay: z.number().min(0).default(0),
});

/** Parsed Adam options. */
export type AdamOptions = z.output<typeof AdamOptions>;
/** What {@link AdamOptimizer} accepts: every field optional. */
export type AdamOptionsInput = z.input<typeof AdamOptions>;

/** The exact state of an {@link AdamOptimizer}: step count and both moments of every parameter, by name. */
export interface AdamState {
  /** Number of updates applied so far. */
  step: number;
  /** First (`m`) and second (`v`) moment estimates by parameter name. */
  moments: Map<string, { m: HostTensor; v: HostTensor }>;
  /**
   * Updates each parameter has received, by name, when that differs from `step` for some parameter (a parameter
   * without a gradient in a step keeps its count, as PyTorch's per-parameter `step`). Absent: every parameter with
   * non-zero moments has received `step` updates and every parameter with all-zero moments none.
   */
  steps?: Map<string, number>;
}

/** An untrainable variable of zeros shaped like `like` (the temporary initial tensor is freed). */
function zeroVariable(like: tf.Variable): tf.Variable {
  const zeros = tf.zerosLike(like);
  const variable = tf.variable(zeros, false);
  zeros.dispose();
  return variable;
}

interface Slot {
  name: string;
  variable: tf.Variable;
  m: tf.Variable;
  v: tf.Variable;
  /** Updates this parameter has received: its own bias-correction count. */
  step: number;
}

/** Whether every element of a moment is 0. */
const allZero = (tensor: HostTensor): boolean => tensor.data.every((value) => value === 0);

/**
 * The update count of a parameter whose own count was not saved: 0 when both its moments are 0 (it never
 * received a gradient), else the optimiser's step. `getState` writes the counts only when this rule is wrong.
 */
const inferredStep = (moments: { m: HostTensor; v: HostTensor }, step: number): number =>
  allZero(moments.m) && allZero(moments.v) ? 0 : step;

/**
 * Adam over named tfjs variables, with state that can be saved and restored exactly (see
 * {@link AdamOptimizer.getState}). The update is PyTorch's: `θ ← θ − lr · m̂ / (√v̂ + ε)` with bias-corrected
 * moments, plus decoupled weight decay `θ ← θ − lr · λ · θ` when `weightDecay > 0`. As in PyTorch, each parameter
 * counts its own updates for the bias correction, so a parameter that joins later (a new value head beside moments
 * carried from a fine-tuning, a policy frozen during a critic warm-up) starts with a fresh Adam's correction.
 *
 * @example
 * ```ts
 * const optimizer = new AdamOptimizer(policy.parameters(), { learningRate: 1e-4 });
 * const { value, grads } = tf.variableGrads(lossFn, policy.trainableVariables());
 * const { gradients } = clipByGlobalNorm(grads, 1.0);
 * optimizer.applyGradients(gradients);
 * ```
 */
export class AdamOptimizer {
  /** Hyper-parameters; `learningRate` may be changed between steps (schedules). */
  readonly options: AdamOptions;
  private readonly slots: Slot[];
  private readonly byVariableName: Map<string, Slot>;
  private stepCount = 0;
  private isDisposed = false;

  constructor(parameters: ReadonlyArray<NamedParameter>, options: AdamOptionsInput = {}) {
    this.options = parseWith(AdamOptions, options, { what: "Adam options", path: "options" });
    if (!Array.isArray(parameters) || parameters.length === 0) {
      throw new InvalidArgumentError("Adam needs at least one parameter", { field: "parameters" });
    }
    this.slots = parameters
      .filter(({ variable }) => variable.trainable)
      .map(({ name, variable }) => ({
        name,
        variable,
        m: zeroVariable(variable),
        v: zeroVariable(variable),
        step: 0,
      }));
    this.byVariableName = new Map(this.slots.map((slot) => [slot.variable.name, slot]));
  }

  /** Number of updates applied so far. */
  get step(): number {
    return this.stepCount;
  }

  /** The current learning rate. */
  get learningRate(): number {
    return this.options.learningRate;
  }

  /**
   * Changes the learning rate for the following steps (for warm-up or decay schedules). 0 is allowed, as in
   * PyTorch: a schedule may end there (the cosine's last step); the update then leaves the weights unchanged.
   */
  set learningRate(value: number) {
    if (!(value >= 0) || !Number.isFinite(value)) {
      throw new InvalidArgumentError("learningRate must be a non-negative number", {
        field: "learningRate",
        value,
      });
    }
    this.options.learningRate = value;
  }

  /**
   * Applies one update. `gradients` maps tfjs variable names (as `tf.variableGrads` returns them) to
   * gradients; parameters without a gradient are left unchanged (their moments too). The gradients are not
   * disposed.
   */
  applyGradients(gradients: Readonly<Record<string, tf.Tensor>>): void {
    this.assertUsable();
    for (const name of Object.keys(gradients)) {
      if (!this.byVariableName.has(name)) {
        throw new InvalidArgumentError(`No trainable parameter of this optimiser is named "${name}"`, {
          field: "gradients",
          value: name,
        });
      }
    }
    this.stepCount += 1;
    const { beta1, beta2, epsilon, learningRate, weightDecay } = this.options;
    tf.tidy(() => {
      for (const slot of this.slots) {
        const gradient = gradients[slot.variable.name];
        if (gradient === undefined) continue;
        slot.step += 1;
        const correction1 = 1 - beta1 ** slot.step;
        const correction2 = Math.sqrt(1 - beta2 ** slot.step);
        const stepSize = learningRate / correction1;
        if (fitsFusedAdam(slot.variable, gradient)) {
          // On wasm one kernel per parameter: the same floats as the ops below.
          const decay = { decay: learningRate * weightDecay, withDecay: weightDecay > 0 };
          const scalars = { beta1, beta2, correction2, epsilon, stepSize, ...decay };
          const [next, m, v] = fusedAdamStep(slot.variable, gradient, slot.m, slot.v, scalars);
          slot.m.assign(m);
          slot.v.assign(v);
          slot.variable.assign(next);
          continue;
        }
        const m = tf.add(tf.mul(slot.m, beta1), tf.mul(gradient, 1 - beta1));
        const v = tf.add(tf.mul(slot.v, beta2), tf.mul(tf.square(gradient), 1 - beta2));
        slot.m.assign(m);
        slot.v.assign(v);
        const denominator = tf.add(tf.div(tf.sqrt(v), correction2), epsilon);
        let next = tf.sub(slot.variable, tf.mul(tf.div(m, denominator), stepSize));
        if (weightDecay > 0) next = tf.sub(next, tf.mul(slot.variable, learningRate * weightDecay));
        slot.variable.assign(next);
      }
    });
  }

  /** A host copy of the exact state (step and moments), for checkpoints. */
  getState(): AdamState {
    this.assertUsable();
    const moments = new Map<string, { m: HostTensor; v: HostTensor }>();
    for (const slot of this.slots) {
      moments.set(slot.name, {
        m: { shape: [...slot.m.shape], data: new Float32Array(slot.m.dataSync() as Float32Array) },
        v: { shape: [...slot.v.shape], data: new Float32Array(slot.v.dataSync() as Float32Array) },
      });
    }
    // The per-parameter counts are written only when the rule `setState` infers without them would be wrong.
    const inferred = (slot: Slot): number => inferredStep(moments.get(slot.name)!, this.stepCount);
    if (this.slots.every((slot) => slot.step === inferred(slot))) return { step: this.stepCount, moments };
    return {
      step: this.stepCount,
      moments,
      steps: new Map(this.slots.map((slot) => [slot.name, slot.step])),
    };
  }

  /** Restores a state from {@link AdamOptimizer.getState}; names and shapes must match (CheckpointError). */
  setState(state: AdamState): void {
    this.assertUsable();
    if (!Number.isInteger(state.step) || state.step < 0) {
      throw new CheckpointError(`Invalid optimiser step ${state.step}`);
    }
    const problems: string[] = [];
    for (const slot of this.slots) {
      const given = state.moments.get(slot.name);
      if (given === undefined) {
        problems.push(`missing moments of "${slot.name}"`);
        continue;
      }
      for (const [which, tensor] of [
        ["m", given.m],
        ["v", given.v],
      ] as const) {
        const sameShape =
          tensor.shape.length === slot.variable.shape.length &&
          tensor.shape.every((size, i) => size === slot.variable.shape[i]) &&
          tensor.data.length === slot.variable.size;
        if (!sameShape) {
          problems.push(
            `"${slot.name}".${which} has shape [${tensor.shape}], expected [${slot.variable.shape}]`,
          );
        }
      }
    }
    const known = new Set(this.slots.map((slot) => slot.name));
    for (const name of state.moments.keys()) if (!known.has(name)) problems.push(`unexpected "${name}"`);
    for (const [name, count] of state.steps ?? []) {
      if (!known.has(name)) problems.push(`step of unexpected "${name}"`);
      else if (!Number.isInteger(count) || count < 0 || count > state.step)
        problems.push(`invalid step ${count} of "${name}"`);
    }
    if (problems.length > 0)
      throw new CheckpointError(`Optimiser state does not match: ${problems.join("; ")}`);
    for (const slot of this.slots) {
      const given = state.moments.get(slot.name)!;
      tf.tidy(() => {
        slot.m.assign(tf.tensor(given.m.data, given.m.shape, "float32"));
        slot.v.assign(tf.tensor(given.v.data, given.v.shape, "float32"));
      });
      slot.step = state.steps?.get(slot.name) ?? inferredStep(given, state.step);
    }
    this.stepCount = state.step;
  }

  /** Frees the moment variables. */
  dispose(): void {
    if (this.isDisposed) return;
    for (const slot of this.slots) {
      slot.m.dispose();
      slot.v.dispose();
    }
    this.isDisposed = true;
  }

  private assertUsable(): void {
    if (this.isDisposed)
      throw new InvalidStateError("The optimiser has been disposed", { state: "disposed" });
  }
}
