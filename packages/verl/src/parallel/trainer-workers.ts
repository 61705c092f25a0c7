import { availableParallelism } from "node:os";
import { InvalidArgumentError } from "@orbiter/types";
import type { BackendName } from "../backend/init-backend.js";
import type { VeRLConfig } from "../config/verl-config.js";
import type { Policy } from "../model/policy.js";
import { TransformerPolicy } from "../model/transformer-policy.js";
import { DataParallelGroup } from "./data-parallel-group.js";

/**
 * The participant count `config.workers` asks for: a number as given; `"auto"` is the available cores capped by
 * the responses per step (and by the smallest mini-batch), or 1 when the policy or reference is not a
 * `TransformerPolicy` (only those have replicas).
 * @throws InvalidArgumentError when a count above 1 is asked for with another kind of policy
 */
export function resolveWorkerCount(config: VeRLConfig, policy: Policy, reference: Policy | null): number {
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
  if (!replicable) return 1;
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

  /** Milliseconds the workers took to start (0 without workers). */
  get startupMs(): number {
    return this.group?.startupMs ?? 0;
  }

  /** The group for this config and policy, started on the first call; null when one thread is used. */
  async ensure(
    config: VeRLConfig,
    policy: Policy,
    reference: Policy | null,
    backend: BackendName,
  ): Promise<DataParallelGroup | null> {
    if (this.starting === null) {
      const count = resolveWorkerCount(config, policy, reference);
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

  /** Ends every worker thread (the next step starts new ones). */
  async dispose(): Promise<void> {
    const group = this.group;
    this.group = null;
    this.starting = null;
    this.participants = 1;
    await group?.dispose();
  }
}
