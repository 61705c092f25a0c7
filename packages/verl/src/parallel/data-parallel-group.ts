import { InvalidArgumentError, parseWith } from "@orbiter/types";
import * as tf from "@tensorflow/tfjs";
import type { BackendName } from "../backend/init-backend.js";
import { wasmFmaActive } from "../internal/wasm-fma.js";
import type { Policy } from "../model/policy.js";
import { TransformerPolicy } from "../model/transformer-policy.js";
import { batchedGenerate, encodePrompts } from "../rollout/batched-generate.js";
import {
  GenerateOptions,
  type GenerateOptionsInput,
  type GenerationResult,
} from "../rollout/generate-options.js";
import type { GradientSum } from "../trainer/gradient-accumulation.js";
import type { GradientSettings, GradientWorkers, MicroBatchPlan } from "../trainer/policy-update.js";
import type { RolloutBatch } from "../trainer/rollout-batch.js";
import { type ParameterLayout, parameterLayout, writeFlatWeights } from "./flat-weights.js";
import { toHostBatch } from "./host-batch.js";
import { mergeGenerations } from "./merge-generations.js";
import { WorkerPool } from "./worker-pool.js";
import type { ReplicaSpec, SyncFlags } from "./worker-protocol.js";

/** Options of {@link DataParallelGroup.start}. */
export interface DataParallelOptions {
  /** Participants, this thread included (at least 2: one worker thread per extra participant). */
  participants: number;
  /** The policy being trained (a `TransformerPolicy`); this thread keeps it, the workers hold replicas. */
  policy: Policy;
  /** The frozen reference model, or null. */
  reference: Policy | null;
  /** Backend of the workers (the one this thread uses). */
  backend: BackendName;
}

function replicaSpec(policy: TransformerPolicy): ReplicaSpec {
  return { config: policy.config, tokenizer: policy.tokenizer.toJSON(), addBos: policy.addBos };
}

/**
 * `promise`, marked as handled: the workers' answers are awaited after this thread's own share, and a worker
 * that fails meanwhile (or this thread's share throwing first) must not surface as an unhandled rejection. The
 * failure still reaches whoever awaits the returned promise.
 */
function settledLater<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

/** `[start, end)` bounds that cut `count` items into `parts` contiguous near-equal parts. */
function cut(count: number, parts: number): Array<[number, number]> {
  return Array.from({ length: parts }, (_, p) => [
    Math.floor((p * count) / parts),
    Math.floor(((p + 1) * count) / parts),
  ]);
}

/**
 * Several threads working on one training step: this thread (participant 0, which owns the policy, the
 * optimiser and the reference model) and worker threads with replicas on their own backend. Rollout rows,
 * reference log-probabilities and each mini-batch's gradients are split across the participants; the gradient
 * sums come back in participant order, are clipped and applied once here, and the new weights go to the
 * replicas through a SharedArrayBuffer before they are used. The same participant count gives bit-identical
 * results run after run.
 */
export class DataParallelGroup implements GradientWorkers {
  /** Participants, this thread included. */
  readonly size: number;
  private readonly pool: WorkerPool;
  private readonly policy: TransformerPolicy;
  private readonly reference: TransformerPolicy | null;
  private readonly policyLayout: ParameterLayout;
  private readonly referenceLayout: ParameterLayout | null;
  private readonly policyWeights: Float32Array;
  private readonly referenceWeights: Float32Array | null;
  private readonly gradientViews: Float32Array[];
  private referenceStale = false;

  private constructor(
    pool: WorkerPool,
    policy: TransformerPolicy,
    reference: TransformerPolicy | null,
    buffers: { policy: Float32Array; reference: Float32Array | null; gradients: Float32Array[] },
  ) {
    this.pool = pool;
    this.size = pool.size + 1;
    this.policy = policy;
    this.reference = reference;
    this.policyLayout = parameterLayout(policy);
    this.referenceLayout = reference === null ? null : parameterLayout(reference);
    this.policyWeights = buffers.policy;
    this.referenceWeights = buffers.reference;
    this.gradientViews = buffers.gradients;
  }

  /**
   * Starts `participants − 1` worker threads with replicas of the policy and reference.
   * @throws InvalidArgumentError when the policy or reference is not a `TransformerPolicy`
   * @throws BackendError when a worker fails to start
   */
  static async start(options: DataParallelOptions): Promise<DataParallelGroup> {
    const { policy, reference, participants } = options;
    if (
      !(policy instanceof TransformerPolicy) ||
      (reference !== null && !(reference instanceof TransformerPolicy))
    ) {
      throw new InvalidArgumentError(
        "Parallel workers need a TransformerPolicy (and reference); use workers: 1 with another Policy",
        { field: "config.workers", value: participants },
      );
    }
    const layout = parameterLayout(policy);
    const shared = (floats: number) => new SharedArrayBuffer(floats * Float32Array.BYTES_PER_ELEMENT);
    const policyBuffer = shared(layout.total);
    const referenceBuffer = reference === null ? null : shared(parameterLayout(reference).total);
    const gradientBuffers = Array.from({ length: participants - 1 }, () => shared(layout.total));
    // The replicas start from the current weights (no random init to overwrite, no sync before first use).
    writeFlatWeights(policy, layout, new Float32Array(policyBuffer));
    if (reference !== null && referenceBuffer !== null) {
      writeFlatWeights(reference, parameterLayout(reference), new Float32Array(referenceBuffer));
    }
    const pool = await WorkerPool.start(
      gradientBuffers.map((gradients, i) => ({
        index: i + 1,
        backend: options.backend,
        policy: replicaSpec(policy),
        reference: reference === null ? null : replicaSpec(reference),
        policyWeights: policyBuffer,
        referenceWeights: referenceBuffer,
        gradients,
        wasmFma: wasmFmaActive(),
      })),
    );
    return new DataParallelGroup(pool, policy, reference, {
      policy: new Float32Array(policyBuffer),
      reference: referenceBuffer === null ? null : new Float32Array(referenceBuffer),
      gradients: gradientBuffers.map((buffer) => new Float32Array(buffer)),
    });
  }

  /** Milliseconds the workers took to start (paid once per group). */
  get startupMs(): number {
    return this.pool.startupMs;
  }

  /** Marks the reference replicas out of date (after the reference's weights were changed, e.g. by a resume). */
  markReferenceStale(): void {
    this.referenceStale = true;
  }

  /** Flags of a request, writing the current weights to the shared buffers first when they are to be synced. */
  private sync(policy: boolean, reference: boolean): SyncFlags {
    if (policy) writeFlatWeights(this.policy, this.policyLayout, this.policyWeights);
    const referenceNeeded = reference && this.referenceStale && this.reference !== null;
    if (referenceNeeded && this.referenceLayout !== null && this.referenceWeights !== null) {
      writeFlatWeights(this.reference as TransformerPolicy, this.referenceLayout, this.referenceWeights);
      this.referenceStale = false;
    }
    return { policy, reference: referenceNeeded };
  }

  /**
   * `policy.generate` with the prompts split across the participants (each samples all `n` completions of its
   * prompts, rows drawing from their own seeded streams): the same tokens as one thread, joined into one result.
   */
  async generate(
    prompts: ReadonlyArray<string | ReadonlyArray<number>>,
    options: GenerateOptionsInput = {},
  ): Promise<GenerationResult> {
    const parsed = parseWith(GenerateOptions, options, { what: "generate options", path: "options" });
    const promptIds = encodePrompts(prompts, this.policy.tokenizer, this.policy.addBos);
    const sync = this.sync(true, false);
    const bounds = cut(promptIds.length, this.size);
    const remote = bounds.slice(1).map(([start, end], i) =>
      start === end
        ? Promise.resolve(null)
        : this.pool
            .request(
              i + 1,
              {
                type: "generate",
                promptIds: promptIds.slice(start, end),
                options: parsed,
                firstRow: start * parsed.n,
              },
              sync,
            )
            .then((reply) => reply.result),
    );
    const remoteParts = settledLater(Promise.all(remote));
    const [start, end] = bounds[0] as [number, number];
    const local =
      start === end
        ? null
        : await batchedGenerate(this.policy, this.policy.tokenizer, promptIds.slice(start, end), parsed);
    const parts = [local, ...(await remoteParts)].filter((part): part is GenerationResult => part !== null);
    return mergeGenerations(parts, this.policy.tokenizer.padId);
  }

  /** Reference log-probabilities `[B][R]` of a rollout's sampled tokens, the rows split across the participants. */
  async referenceLogProbs(generation: GenerationResult, temperature: number): Promise<number[][]> {
    const reference = this.reference;
    if (reference === null)
      throw new InvalidArgumentError("This group has no reference model", { field: "reference" });
    const sync = this.sync(false, true);
    const length = generation.promptLength + generation.responseLength;
    const responseStart = generation.promptLength;
    const bounds = cut(generation.batchSize, this.size);
    const remote = bounds.slice(1).map(([start, end], i) => {
      if (start === end) return Promise.resolve(new Float32Array(0));
      const rows = end - start;
      return this.pool
        .request(
          i + 1,
          {
            type: "referenceLogProbs",
            rows,
            length,
            tokens: Int32Array.from(generation.sequences.slice(start, end).flat()),
            attentionMask: Float32Array.from(generation.attentionMask.slice(start, end).flat()),
            responseStart,
            temperature,
          },
          sync,
        )
        .then((reply) => reply.logProbs);
    });
    const remoteParts = settledLater(Promise.all(remote));
    const [start, end] = bounds[0] as [number, number];
    const local =
      start === end
        ? new Float32Array(0)
        : tf.tidy(() => {
            const tokens = tf.tensor2d(generation.sequences.slice(start, end), undefined, "int32");
            const attentionMask = tf.tensor2d(generation.attentionMask.slice(start, end));
            return reference
              .logProbs({ tokens, attentionMask, responseStart, temperature })
              .logProbs.dataSync();
          });
    const flat = [local, ...(await remoteParts)];
    const width = generation.responseLength;
    const out: number[][] = [];
    for (const part of flat) {
      for (let row = 0; row < part.length / width; row++)
        out.push(Array.from(part.subarray(row * width, (row + 1) * width)));
    }
    return out;
  }

  async loadBatch(batch: RolloutBatch): Promise<void> {
    const host = toHostBatch(batch);
    const none = { policy: false, reference: false };
    await Promise.all(
      Array.from({ length: this.pool.size }, (_, i) =>
        this.pool.request(i + 1, { type: "loadBatch", batch: host }, none),
      ),
    );
  }

  async gradients(
    parts: MicroBatchPlan[][],
    settings: GradientSettings,
    syncWeights: boolean,
  ): Promise<GradientSum[]> {
    const sync = this.sync(syncWeights, false);
    const { config, klCoef } = settings;
    const criticOnly = settings.criticOnly === true;
    const replies = await Promise.all(
      parts
        .slice(1)
        .map((plans, i) =>
          plans.length === 0
            ? Promise.resolve(null)
            : this.pool.request(i + 1, { type: "gradients", plans, klCoef, config, criticOnly }, sync),
        ),
    );
    const names = this.policy.parameters().map(({ variable }) => variable.name);
    return replies.flatMap((reply, i) => {
      if (reply === null) return [];
      const view = this.gradientViews[i] as Float32Array;
      const grads: tf.NamedTensorMap = {};
      for (const index of reply.present) {
        const offset = this.policyLayout.offsets[index] as number;
        const shape = this.policyLayout.shapes[index] as number[];
        const size = shape.reduce((a, b) => a * b, 1);
        grads[names[index] as string] = tf.tensor(view.slice(offset, offset + size), shape, "float32");
      }
      return [{ grads, metrics: tf.tensor1d(reply.metrics) }];
    });
  }

  /** `tf.memory().numTensors` of each worker thread, in participant order from 1 (for leak checks). */
  async workerTensorCounts(): Promise<number[]> {
    const none = { policy: false, reference: false };
    const replies = await Promise.all(
      Array.from({ length: this.pool.size }, (_, i) => this.pool.request(i + 1, { type: "memory" }, none)),
    );
    return replies.map((reply) => reply.numTensors);
  }

  /** Ends every worker. */
  dispose(): Promise<void> {
    return this.pool.dispose();
  }
}
