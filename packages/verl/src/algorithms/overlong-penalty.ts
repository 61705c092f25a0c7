import { InvalidArgumentError } from "@orbiter/types";

/** Options of {@link softOverlongPenalty}. */
export interface SoftOverlongPenaltyOptions {
  /** Maximum response length L_max. */
  maxLength: number;
  /** Length of the soft zone L_buf before L_max in which the penalty ramps up. */
  bufferLength: number;
  /** Penalty at L_max (and beyond). @default 1 */
  factor?: number;
}

/**
 * DAPO's soft overlong punishment (verl `DAPORewardManager`): 0 up to L_max − L_buf, then a linear ramp down to
 * −factor at L_max, and −factor beyond (the excess is capped at L_buf as OpenRLHF does). Add it to the score.
 *
 * @param length response length, in tokens
 * @example
 * ```ts
 * softOverlongPenalty(18, { maxLength: 20, bufferLength: 4 }); // -0.5
 * ```
 */
export function softOverlongPenalty(length: number, options: SoftOverlongPenaltyOptions): number {
  const { maxLength, bufferLength, factor = 1 } = options;
  if (!(bufferLength > 0) || !(maxLength >= bufferLength)) {
    throw new InvalidArgumentError(
      `need maxLength ≥ bufferLength > 0, got ${maxLength} and ${bufferLength}`,
      {
        field: "bufferLength",
      },
    );
  }
  const expected = maxLength - bufferLength;
  const excess = Math.min(Math.max(length - expected, 0), bufferLength);
  return excess === 0 ? 0 : (-excess / bufferLength) * factor;
}
