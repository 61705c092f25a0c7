import { InvalidArgumentError } from "@orbiter/types";
import * as tf from "@tensorflow/tfjs";
import type { ForwardInput, LogProbsInput } from "./policy.js";

/** Checks the tokens `[B, L]` (1 ≤ L ≤ `contextLength`) and the mask of their shape; InvalidArgumentError otherwise. */
export function checkForwardInput(
  input: ForwardInput,
  contextLength: number,
): { tokens: tf.Tensor2D; attentionMask: tf.Tensor2D | undefined } {
  const tokens = input?.tokens;
  if (!(tokens instanceof tf.Tensor) || tokens.rank !== 2) {
    throw new InvalidArgumentError("tokens must be a 2-D tensor [batch, length]", { field: "tokens" });
  }
  const [batch, length] = tokens.shape;
  if (length < 1 || length > contextLength) {
    throw new InvalidArgumentError(
      `tokens has length ${length}; it must be between 1 and the context length ${contextLength}`,
      { field: "tokens", value: tokens.shape },
    );
  }
  const mask = input.attentionMask;
  if (mask !== undefined) {
    if (
      !(mask instanceof tf.Tensor) ||
      mask.rank !== 2 ||
      mask.shape[0] !== batch ||
      mask.shape[1] !== length
    ) {
      throw new InvalidArgumentError(`attentionMask must have the shape of tokens [${batch}, ${length}]`, {
        field: "attentionMask",
      });
    }
  }
  return { tokens, attentionMask: mask };
}

/** The checked `responseStart` (in [1, L−1]) and `temperature` (> 0) of a log-probs call on `length` tokens. */
export function checkLogProbsOptions(
  input: LogProbsInput,
  length: number,
  hasValueHead: boolean,
): { start: number; temperature: number } {
  const start = input.responseStart ?? 1;
  if (!Number.isInteger(start) || start < 1 || start >= length) {
    throw new InvalidArgumentError(`responseStart must be an integer in [1, ${length - 1}], got ${start}`, {
      field: "responseStart",
      value: start,
    });
  }
  const temperature = input.temperature ?? 1;
  if (!(temperature > 0) || !Number.isFinite(temperature)) {
    throw new InvalidArgumentError("temperature must be a positive number", {
      field: "temperature",
      value: temperature,
    });
  }
  if (input.withValues && !hasValueHead) {
    throw new InvalidArgumentError("withValues needs a policy with a value head (config.valueHead)", {
      field: "withValues",
    });
  }
  return { start, temperature };
}
