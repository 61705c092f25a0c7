import type { BackendName } from "../backend/init-backend.js";
import type { VeRLConfig } from "../config/verl-config.js";
import type { ResolvedTransformerConfig } from "../model/transformer-config.js";
import type { GenerateOptions, GenerationResult } from "../rollout/generate-options.js";
import type { TokenizerJson } from "../tokenizer/tokenizer.js";
import type { MicroBatchPlan } from "../trainer/policy-update.js";

// The messages between a DataParallelGroup (main thread) and its policy workers. Weights and gradients go
// through SharedArrayBuffers; messages carry the rest (rows, options, results).

/** What a worker needs to build a replica of a transformer policy (its weights come separately). */
export interface ReplicaSpec {
  config: ResolvedTransformerConfig;
  tokenizer: TokenizerJson;
  addBos: boolean;
}

/** `workerData` of a policy worker. */
export interface WorkerInit {
  /** Index of the participant (1.. ; the main thread is 0). */
  index: number;
  backend: BackendName;
  policy: ReplicaSpec;
  reference: ReplicaSpec | null;
  /** Policy weights, written by the main thread before a request with `sync.policy`. */
  policyWeights: SharedArrayBuffer;
  /** Reference weights, written before a request with `sync.reference`. */
  referenceWeights: SharedArrayBuffer | null;
  /** This worker's gradient sum, written by the worker in answer to `gradients`. */
  gradients: SharedArrayBuffer;
  /** Whether the main thread's wasm kernels fuse multiply-adds: the worker's must round the same way. */
  wasmFma: boolean;
}

/** A rollout batch as host arrays (row-major), for the workers' share of an update. */
export interface HostBatch {
  size: number;
  length: number;
  responseLength: number;
  responseStart: number;
  tokens: Int32Array;
  attentionMask: Float32Array;
  responseMask: Float32Array;
  oldLogProbs: Float32Array;
  advantages: Float32Array;
  refLogProbs: Float32Array | null;
  returns: Float32Array | null;
  oldValues: Float32Array | null;
}

/** Which replicas to refresh from the shared weights before running a request. */
export interface SyncFlags {
  policy: boolean;
  reference: boolean;
}

/** A request of the main thread to a worker. */
export type WorkerRequest =
  | {
      type: "generate";
      id: number;
      sync: SyncFlags;
      promptIds: number[][];
      options: GenerateOptions;
      firstRow: number;
    }
  | {
      type: "referenceLogProbs";
      id: number;
      sync: SyncFlags;
      rows: number;
      length: number;
      tokens: Int32Array;
      attentionMask: Float32Array;
      responseStart: number;
      temperature: number;
    }
  | { type: "loadBatch"; id: number; sync: SyncFlags; batch: HostBatch }
  | {
      type: "gradients";
      id: number;
      sync: SyncFlags;
      plans: MicroBatchPlan[];
      klCoef: number;
      config: VeRLConfig;
      /** A critic warm-up step: gradients of the value head only. */
      criticOnly: boolean;
    }
  | { type: "memory"; id: number; sync: SyncFlags }
  | { type: "fail"; id: number; sync: SyncFlags; how: "throw" | "exit" };

/** An error thrown in a worker, as it crosses the thread boundary. */
export interface WorkerErrorInfo {
  name: string;
  message: string;
  code?: string;
}

/** A worker's answer to a request (`error` when it threw). */
export type WorkerReply =
  | { type: "ready" }
  | { type: "generate"; id: number; result: GenerationResult }
  | { type: "referenceLogProbs"; id: number; logProbs: Float32Array }
  | { type: "loadBatch"; id: number }
  | { type: "gradients"; id: number; present: number[]; metrics: Float32Array }
  | { type: "memory"; id: number; numTensors: number }
  | { type: "error"; id: number; error: WorkerErrorInfo };

/** A request without the fields the pool fills in. */
export type RequestBody = WorkerRequest extends infer R
  ? R extends WorkerRequest
    ? Omit<R, "id" | "sync">
    : never
  : never;

/** The answer to a request of the given type. */
export type ReplyTo<T extends WorkerRequest["type"]> = Extract<WorkerReply, { type: T }>;
