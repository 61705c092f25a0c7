import { checkOptionsObject, InvalidArgumentError } from "@orbiter/types";
import type { TrainerCallbacks } from "./trainer-events.js";

/**
 * The dataset of a `Trainer` written without type arguments: anything with a `length` that can be iterated (an
 * array, a `TrajectoryDataset`, ...), so `this.dataset.length` type-checks in such a subclass.
 */
export interface DatasetLike extends Iterable<unknown> {
  /** Number of items. */
  readonly length: number;
}

/** Options every {@link Trainer} constructor accepts; all are optional. */
export interface TrainerOptions<
  TDataset = DatasetLike,
  TAgent = unknown,
  TRewardFn = unknown,
  TConfigInput = unknown,
> {
  /** The agent being trained (checked by `checkAgent`). */
  agent?: TAgent | undefined;
  /** The training data (checked by `checkDataset`). */
  dataset?: TDataset | undefined;
  /** The reward function (checked by `checkReward`). */
  rewardFn?: TRewardFn | undefined;
  /** Hyper-parameters, parsed with the trainer's config schema. @default {} (every default) */
  config?: TConfigInput | undefined;
  /** Callback objects that receive the trainer's events. @default [] */
  callbacks?: ReadonlyArray<TrainerCallbacks> | undefined;
  /** Write one JSON line per step (and per epoch and evaluation) to this file. @default undefined (no log) */
  metricsLogPath?: string | undefined;
  /** Cancels training: the next `reportStep` (or `throwIfAborted`) throws. @default undefined */
  signal?: AbortSignal | undefined;
}

/** The keys of {@link TrainerOptions}: anything else given to the constructor is a mistake (a typo). */
const TRAINER_OPTION_KEYS = {
  agent: true,
  dataset: true,
  rewardFn: true,
  config: true,
  callbacks: true,
  metricsLogPath: true,
  signal: true,
} as const satisfies Record<keyof TrainerOptions, true>;

/**
 * Refuses (with `InvalidArgumentError`) an options value that is not an object, a key no trainer option is called,
 * and a `callbacks`, `signal` or `metricsLogPath` of the wrong type (found here rather than as a `TypeError` in the
 * middle of a run).
 */
export function checkOptionKeys(options: unknown, trainer: string): void {
  checkOptionsObject(options, `${trainer} options`);
  for (const key of Object.keys(options)) {
    if (!Object.hasOwn(TRAINER_OPTION_KEYS, key)) {
      const known = Object.keys(TRAINER_OPTION_KEYS)
        .map((name) => `"${name}"`)
        .join(", ");
      throw new InvalidArgumentError(`Unknown ${trainer} option "${key}" (the options are ${known})`, {
        field: key,
        value: (options as Record<string, unknown>)[key],
      });
    }
  }
  checkOptionTypes(options as TrainerOptions, trainer);
}

function checkOptionTypes({ callbacks, signal, metricsLogPath }: TrainerOptions, trainer: string): void {
  const refuse = (field: string, expected: string, value: unknown) => {
    throw new InvalidArgumentError(`${trainer} option ${field} must be ${expected}`, { field, value });
  };
  if (callbacks !== undefined) {
    if (!Array.isArray(callbacks)) refuse("callbacks", "an array of callback objects", callbacks);
    callbacks.forEach((item: unknown, index) => {
      if (item === null || typeof item !== "object") refuse(`callbacks[${index}]`, "a callback object", item);
    });
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) refuse("signal", "an AbortSignal", signal);
  if (metricsLogPath !== undefined && (typeof metricsLogPath !== "string" || metricsLogPath === "")) {
    refuse("metricsLogPath", "a non-empty file path", metricsLogPath);
  }
}

/** The `length` (or `size`) of a dataset, when it has one. */
export function lengthOf(value: unknown): number | undefined {
  if (typeof value === "string" || Array.isArray(value)) return value.length;
  if (value !== null && typeof value === "object") {
    const record = value as { length?: unknown; size?: unknown };
    if (typeof record.length === "number") return record.length;
    if (typeof record.size === "number") return record.size;
  }
  return undefined;
}
