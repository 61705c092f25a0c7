import { CheckpointError } from "@orbiter/types";
import * as tf from "@tensorflow/tfjs";
import { readModelCheckpoint, writeModelCheckpoint } from "../checkpoint/model-checkpoint.js";
import type { HostTensor } from "../model/named-parameter.js";
import type { Policy } from "../model/policy.js";
import type { GradientApplier } from "./policy-update.js";

/** Adam hyper-parameters of {@link PolicyOptimizer}. */
export interface PolicyOptimizerOptions {
  /** @default 0.9 */
  beta1?: number;
  /** @default 0.999 */
  beta2?: number;
  /** @default 1e-8 */
  epsilon?: number;
}

const STEP_KEY = "orbiter.adam.step";

/**
 * Adam over a policy's trainable parameters, with its moments keyed by the parameters' stable names so that the
 * state can be checkpointed and restored exactly (bit for bit) into another instance of the same policy.
 */
export class PolicyOptimizer implements GradientApplier {
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly epsilon: number;
  private readonly entries: Array<{ name: string; variable: tf.Variable; m: tf.Variable; v: tf.Variable }>;
  private readonly byVariable: Map<string, number>;
  private stepCount = 0;

  constructor(policy: Policy, options: PolicyOptimizerOptions = {}) {
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-8;
    const trainable = new Set(policy.trainableVariables());
    this.entries = policy
      .parameters()
      .filter((parameter) => trainable.has(parameter.variable))
      .map(({ name, variable }) => ({
        name,
        variable,
        m: tf.variable(tf.zerosLike(variable), false),
        v: tf.variable(tf.zerosLike(variable), false),
      }));
    this.byVariable = new Map(this.entries.map((entry, index) => [entry.variable.name, index]));
  }

  /** Adam steps taken. */
  get step(): number {
    return this.stepCount;
  }

  /** One Adam step for every variable with a gradient (bias-corrected, no weight decay). */
  applyGradients(gradients: tf.NamedTensorMap, learningRate: number): void {
    this.stepCount++;
    const t = this.stepCount;
    const correction1 = 1 - this.beta1 ** t;
    const correction2 = 1 - this.beta2 ** t;
    const stepSize = learningRate / correction1;
    tf.tidy(() => {
      for (const [name, gradient] of Object.entries(gradients)) {
        const index = this.byVariable.get(name);
        if (index === undefined) continue;
        const entry = this.entries[index] as (typeof this.entries)[number];
        const m = tf.add(tf.mul(entry.m, this.beta1), tf.mul(gradient, 1 - this.beta1));
        const v = tf.add(tf.mul(entry.v, this.beta2), tf.mul(tf.square(gradient), 1 - this.beta2));
        entry.m.assign(m);
        entry.v.assign(v);
        const denominator = tf.add(tf.sqrt(tf.div(v, correction2)), this.epsilon);
        entry.variable.assign(tf.sub(entry.variable, tf.mul(tf.div(m, denominator), stepSize)));
      }
    });
  }

  /** Host copies of the moments (`<name>.m`, `<name>.v`) and the step count. */
  getState(): Map<string, HostTensor> {
    const state = new Map<string, HostTensor>();
    for (const entry of this.entries) {
      state.set(`${entry.name}.m`, { shape: [...entry.m.shape], data: entry.m.dataSync() as Float32Array });
      state.set(`${entry.name}.v`, { shape: [...entry.v.shape], data: entry.v.dataSync() as Float32Array });
    }
    state.set(STEP_KEY, { shape: [1], data: Float32Array.of(this.stepCount) });
    return state;
  }

  /** Restores a state from {@link PolicyOptimizer.getState}; names and shapes must match. */
  setState(state: ReadonlyMap<string, HostTensor>): void {
    const step = state.get(STEP_KEY);
    for (const entry of this.entries) {
      for (const [suffix, target] of [
        ["m", entry.m],
        ["v", entry.v],
      ] as const) {
        const saved = state.get(`${entry.name}.${suffix}`);
        if (saved === undefined || saved.shape.join(",") !== target.shape.join(",")) {
          throw new CheckpointError(`Optimizer state has no matching "${entry.name}.${suffix}"`);
        }
        tf.tidy(() => target.assign(tf.tensor(saved.data, saved.shape, "float32")));
      }
    }
    this.stepCount = step === undefined ? 0 : (step.data[0] as number);
  }

  /** Writes the state to `directory/model.safetensors`. */
  async save(directory: string): Promise<void> {
    await writeModelCheckpoint(directory, this.getState(), { "orbiter.kind": "adam" });
  }

  /** Reads a state written by {@link PolicyOptimizer.save}. */
  static async readState(directory: string): Promise<Map<string, HostTensor>> {
    const { weights } = await readModelCheckpoint(directory);
    return weights;
  }

  /** Frees the moment variables. */
  dispose(): void {
    for (const entry of this.entries) {
      entry.m.dispose();
      entry.v.dispose();
    }
  }
}
