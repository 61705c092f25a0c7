// Entry of a policy worker thread (started by WorkerPool): a replica of the trainer's transformer policy (and of
// its reference model) on its own TensorFlow.js backend, answering the main thread's requests one at a time.
import { parentPort, workerData } from "node:worker_threads";
import { OrbiterError } from "@orbiter/types";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../backend/init-backend.js";
import { setWasmFma } from "../internal/wasm-fma.js";
import { transformerParameterSpecs } from "../model/transformer-parameter-specs.js";
import { TransformerPolicy } from "../model/transformer-policy.js";
import { batchedGenerate } from "../rollout/batched-generate.js";
import { tokenizerFromJSON } from "../tokenizer/tokenizer-from-json.js";
import {
  disposeGradients,
  type GradientSum,
  sumMicroBatchGradients,
} from "../trainer/gradient-accumulation.js";
import { type ParameterLayout, parameterLayout, readFlatWeights, unflattenWeights } from "./flat-weights.js";
import { hostRows } from "./host-batch.js";
import type { HostBatch, ReplicaSpec, WorkerInit, WorkerReply, WorkerRequest } from "./worker-protocol.js";

const init = workerData as WorkerInit;
const port = parentPort;
if (port === null) throw new Error("policy-worker must run in a worker thread");

setWasmFma(init.wasmFma ? "on" : "off");
await initBackend({ backend: init.backend });

/** A replica built from the weights the main thread wrote to `buffer` before starting this worker. */
function replica(spec: ReplicaSpec, frozen: boolean, buffer: SharedArrayBuffer): TransformerPolicy {
  const initial = unflattenWeights(transformerParameterSpecs(spec.config), new Float32Array(buffer));
  return new TransformerPolicy(
    { tokenizer: tokenizerFromJSON(spec.tokenizer), config: spec.config, addBos: spec.addBos, frozen },
    initial,
  );
}

const policy = replica(init.policy, false, init.policyWeights);
const reference =
  init.reference === null || init.referenceWeights === null
    ? null
    : replica(init.reference, true, init.referenceWeights);
const policyLayout = parameterLayout(policy);
const referenceLayout: ParameterLayout | null = reference === null ? null : parameterLayout(reference);
const policyWeights = new Float32Array(init.policyWeights);
const referenceWeights = init.referenceWeights === null ? null : new Float32Array(init.referenceWeights);
const gradientBuffer = new Float32Array(init.gradients);
const variableIndex = new Map(policy.parameters().map(({ variable }, i) => [variable.name, i]));
let batch: HostBatch | null = null;

function post(reply: WorkerReply, transfer: ArrayBuffer[] = []): void {
  port?.postMessage(reply, transfer);
}

async function handle(request: WorkerRequest): Promise<void> {
  if (request.type !== "loadBatch" || request.sync.policy || request.sync.reference) {
    if (request.sync.policy) readFlatWeights(policy, policyLayout, policyWeights);
    if (
      request.sync.reference &&
      reference !== null &&
      referenceLayout !== null &&
      referenceWeights !== null
    ) {
      readFlatWeights(reference, referenceLayout, referenceWeights);
    }
  }
  switch (request.type) {
    case "generate": {
      const result = await batchedGenerate(policy, policy.tokenizer, request.promptIds, request.options, {
        firstRow: request.firstRow,
      });
      post({ type: "generate", id: request.id, result });
      return;
    }
    case "referenceLogProbs": {
      if (reference === null) throw new Error("This worker has no reference model");
      const logProbs = tf.tidy(() => {
        const tokens = tf.tensor2d(request.tokens, [request.rows, request.length], "int32");
        const attentionMask = tf.tensor2d(request.attentionMask, [request.rows, request.length]);
        return reference
          .logProbs({
            tokens,
            attentionMask,
            responseStart: request.responseStart,
            temperature: request.temperature,
          })
          .logProbs.dataSync() as Float32Array;
      });
      post({ type: "referenceLogProbs", id: request.id, logProbs }, [logProbs.buffer as ArrayBuffer]);
      return;
    }
    case "loadBatch":
      batch = request.batch;
      post({ type: "loadBatch", id: request.id });
      return;
    case "gradients": {
      const loaded = batch;
      if (loaded === null) throw new Error("gradients requested before loadBatch");
      let sum: GradientSum | null = null;
      try {
        sum = sumMicroBatchGradients(
          policy,
          request.plans,
          {
            config: request.config,
            klCoef: request.klCoef,
            responseStart: loaded.responseStart,
            criticOnly: request.criticOnly,
          },
          (plan) => hostRows(loaded, plan.rows),
          (rows) => tf.dispose(Object.values(rows).filter((tensor): tensor is tf.Tensor => tensor !== null)),
        );
        const present: number[] = [];
        let metrics: Float32Array = new Float32Array(0);
        if (sum !== null) {
          for (const [name, gradient] of Object.entries(sum.grads)) {
            const index = variableIndex.get(name);
            if (index === undefined) continue;
            gradientBuffer.set(gradient.dataSync() as Float32Array, policyLayout.offsets[index] as number);
            present.push(index);
          }
          metrics = Float32Array.from(sum.metrics.dataSync());
        }
        post({ type: "gradients", id: request.id, present: present.sort((a, b) => a - b), metrics });
      } finally {
        disposeGradients(sum);
      }
      return;
    }
    case "memory":
      post({ type: "memory", id: request.id, numTensors: tf.memory().numTensors });
      return;
    case "fail":
      if (request.how === "exit") process.exit(3);
      throw new Error("failure requested by the main thread");
  }
}

let queue: Promise<void> = Promise.resolve();
port.on("message", (request: WorkerRequest) => {
  queue = queue.then(() =>
    handle(request).catch((error: unknown) => {
      post({
        type: "error",
        id: request.id,
        error: {
          name: error instanceof Error ? error.name : "Error",
          message: error instanceof Error ? error.message : String(error),
          ...(OrbiterError.isInstance(error) ? { code: error.code } : {}),
        },
      });
    }),
  );
});
post({ type: "ready" });
