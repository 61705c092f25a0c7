import { availableParallelism } from "node:os";
import { InvalidArgumentError } from "@orbiter/types";
import type { BackendName } from "../backend/init-backend.js";
import type { VeRLConfig } from "../config/verl-config.js";
import type { Policy } from "../model/policy.js";
import { TransformerPolicy } from "../model/transformer-policy.js";
import { DataParallelGroup } from "./data-parallel-group.js";

/**
 * Below this many parameter-responses per step (parameters × responses), `"auto"` stays on one thread: the
 * per-mini-batch synchronisation (weights out, gradients back, about two copies of the parameters) and the
 * worker start-up cost more than the split saves on models this small.
 */
export const MIN_PARALLEL_WORK = 1 << 22;

/**
 * The participant count `config.workers` asks for: a number as given; `"auto"` is the available cores capped by
 * the responses per step (and by the mini-batch size), or 1 when the policy or reference is not a
 * `TransformerPolicy` (only those have replicas), on the native `tensorflow` backend (whose kernels already use
 * every core), or when the step is too small to gain ({@link MIN_PARALLEL_WORK}). `responsesPerSample` counts the
 * model answers behind each of the step's samples (an agent episode holds up to `maxTurns` of them).
 * @throws InvalidArgumentError when a count above 1 is asked for with another kind of policy
 */
export function resolveWorkerCount(
  config: VeRLConfig,
  policy: Policy,
  reference: Policy | null,
  backend: BackendName = "wasm",
  responsesPerSample = 1,
): number {
  const replicable =
    policy instanceof TransformerPolicy && (reference === null || reference instanceof TransformerPolicy);
  if (config.workers !== "auto") {
    if (config.workers > 1 && !replicable) {
      throw new InvalidArgumentError(
        `workers: ${config.workers} needs a TransformerPolicy (and reference): other policies train on one thread (workers: 1)`,
        { field: "config.workers", value: config.workers },
      );
    }
    return config.workers;
  }
  // Native TensorFlow already spreads its kernels over every core.
  if (!replicable || backend === "tensorflow") return 1;
  const responses = config.batchSize * config.groupSize * responsesPerSample;
  if (policy.parameterCount * responses < MIN_PARALLEL_WORK) return 1;
  return Math.max(
    1,
    Math.min(availableParallelism(), config.miniBatchSize, config.batchSize * config.groupSize),
  );
}

/**
 * The worker threads of one trainer: started once, on the first step that needs them, and ended by `dispose()`.
 */
export class TrainerWorkers {
  private group: DataParallelGroup | null = null;
  private starting: Promise<DataParallelGroup | null> | null = null;
  private participants = 1;

  /** Participants of the steps (1 until the workers are started, or when none are used). */
  get count(): number {
    return this.participants;
  }

  /** The running group, or null before the first step that started one (and when one thread is used). */
  get running(): DataParallelGroup | null {
    return this.group;
  }

  /** Milliseconds the workers took to start (0 without workers). */
  get startupMs(): number {
    return this.group?.startupMs ?? 0;
  }

  /**
   * The group for this config and policy, started on the first call; null when one thread is used.
   * `responsesPerSample` as in {@link resolveWorkerCount}.
   */
  async ensure(
    config: VeRLConfig,
    policy: Policy,
    reference: Policy | null,
    backend: BackendName,
    responsesPerSample = 1,
  ): Promise<DataParallelGroup | null> {
    if (this.starting === null) {
      const count = resolveWorkerCount(config, policy, reference, backend, responsesPerSample);
      this.starting =
        count <= 1
          ? Promise.resolve(null)
          : DataParallelGroup.start({ participants: count, policy, reference, backend }).then((group) => {
              this.group = group;
              this.participants = count;
              return group;
            });
      // A failed start is not cached: the next step tries again (and fails the same way if nothing changed).
      this.starting.catch(() => {
        this.starting = null;
      });
    }
    return this.starting;
  }

  /** `tf.memory().numTensors` of each worker thread (empty without workers). */
  async workerTensorCounts(): Promise<number[]> {
    return this.group === null ? [] : this.group.workerTensorCounts();
  }

  /** Ends every worker thread (the next step starts new ones). */
  async dispose(): Promise<void> {
    const group = this.group;
    this.group = null;
    this.starting = null;
    this.participants = 1;
    await group?.dispose();
  }
}
