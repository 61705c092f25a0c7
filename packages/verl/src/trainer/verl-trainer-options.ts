import {
  ProgressReporter,
  type ProgressReporterOptions,
  type StepEvent,
  type TrainerCallbacks,
} from "@orbiter/trainer-core";
import { InvalidArgumentError } from "@orbiter/types";
import type { AgentOptionsInput } from "../agent/agent-options.js";
import type { AgentFunction } from "../agent/agent-rollout.js";
import type { ServeModel } from "../agent/agent-runner.js";
import type { BackendName } from "../backend/init-backend.js";
import type { VeRLConfigInput } from "../config/verl-config.js";
import type { Policy } from "../model/policy.js";
import type { AdamState } from "../optim/adam-optimizer.js";
import type { RewardSpecInput } from "../rewards/reward-spec.js";
import type { Tokenizer } from "../tokenizer/tokenizer.js";
import type { VeRLDatasetInput } from "./dataset-input.js";

/** Payload of the `onStep` callback: trainer-core's step event plus the backend that ran it. */
export interface VeRLStepEvent extends StepEvent {
  /** The tensor backend in use. */
  backend: BackendName | undefined;
}

/** Options of {@link VeRLTrainer}. */
export interface VeRLTrainerOptions {
  /** Hyper-parameters; see {@link VeRLConfig}. @default {} (PPO with every default) */
  config?: VeRLConfigInput;
  /** The reward functions (at least one). */
  rewards: ReadonlyArray<RewardSpecInput>;
  /**
   * The policy to train. @default a new `TransformerPolicy` sized by `config.model`, with a character tokenizer
   * built from the training data (or `tokenizer`)
   */
  policy?: Policy;
  /** The frozen reference model of the KL term. @default a frozen copy of the policy as training starts */
  reference?: Policy;
  /** Tokenizer of the default policy. @default `CharTokenizer.fromCorpus` of every prompt and reference output */
  tokenizer?: Tokenizer;
  /** Training data, when it is not passed to `train(dataset)`. */
  dataset?: VeRLDatasetInput;
  /** Data for evaluations during training (`evalEvery`) and the default of `evaluate()`. @default the training data */
  evalSet?: VeRLDatasetInput;
  /** trainer-core callbacks (`MetricsLogger`, `ProgressReporter`, ...). @default [] */
  callbacks?: ReadonlyArray<TrainerCallbacks>;
  /** Write one JSON line of metrics per step to this file. @default undefined */
  metricsLogPath?: string;
  /** Cancels training at the next step. @default undefined */
  signal?: AbortSignal;
  /**
   * Show progress on stderr with trainer-core's `ProgressReporter` (a bar on a terminal, plain lines otherwise);
   * an object configures it.
   * @default false
   */
  progress?: boolean | ProgressReporterOptions;
  /** Called after every training step with its metrics (to draw curves). @default undefined */
  onStep?: (event: VeRLStepEvent) => void | Promise<void>;
  /**
   * Agent mode: the user's agent, run `groupSize` times per task (the dataset's samples) against the policy
   * served at `context.baseURL`; its episodes are scored and trained on (see `AgentRunner`). @default undefined
   */
  agent?: AgentFunction;
  /** Episode settings of agent mode (turns, timeout, concurrency, context). @default {} */
  agentOptions?: AgentOptionsInput;
  /** How agent mode serves the policy. @default `startGateway` of `@orbiter/gateway` */
  serve?: ServeModel;
  /**
   * Start Adam from this state (moments and step, e.g. the warm start's own from `loadCheckpoint`) instead of
   * zeros; names and shapes must match the policy's parameters (CheckpointError). @default undefined (fresh Adam)
   */
  optimizerState?: AdamState;
}

/** The keys of {@link VeRLTrainerOptions}; any other key given to the constructor is refused (a typo). */
const OPTION_KEYS = {
  config: true,
  rewards: true,
  policy: true,
  reference: true,
  tokenizer: true,
  dataset: true,
  evalSet: true,
  callbacks: true,
  metricsLogPath: true,
  signal: true,
  progress: true,
  onStep: true,
  agent: true,
  agentOptions: true,
  serve: true,
  optimizerState: true,
} as const satisfies Record<keyof VeRLTrainerOptions, true>;

/**
 * Checks that `options` is an object whose keys are all {@link VeRLTrainerOptions} keys.
 *
 * @throws InvalidArgumentError naming the key when one is unknown (a typo such as `datset`), or `options` when it
 * is not an object
 */
export function checkTrainerOptionKeys(options: VeRLTrainerOptions): void {
  if (options === null || typeof options !== "object") {
    throw new InvalidArgumentError("VeRLTrainer needs an options object with `rewards`", {
      field: "options",
    });
  }
  for (const key of Object.keys(options)) {
    if (!Object.hasOwn(OPTION_KEYS, key)) {
      throw new InvalidArgumentError(
        `Unknown VeRLTrainer option "${key}" (the options are ${Object.keys(OPTION_KEYS).join(", ")})`,
        { field: key, value: (options as unknown as Record<string, unknown>)[key] },
      );
    }
  }
}

/** The trainer-core callbacks of `options`: its `callbacks`, then a `ProgressReporter` when `progress` asks for one. */
export function trainerCallbacks(options: VeRLTrainerOptions): TrainerCallbacks[] {
  const callbacks = [...(options.callbacks ?? [])];
  if (options.progress) {
    callbacks.push(
      new ProgressReporter({ label: "verl", ...(options.progress === true ? {} : options.progress) }),
    );
  }
  return callbacks;
}
