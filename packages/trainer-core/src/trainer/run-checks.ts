import { messageOf } from "@orbiter/types";

/** One failed pre-training check, as listed by `ValidationFailedError.failures`. */
export interface CheckFailure {
  /** Name of the check (`checkAgent`, `checkDataset`, `checkReward`, `checkConfig`). */
  check: string;
  /** `"returned false"`, `"returned string instead of a boolean"` or `"threw: <message>"`. */
  reason: string;
  /** The error the check threw, if it threw. */
  error?: unknown;
}

/**
 * Runs named checks one after the other and lists those that failed: a check fails when it returns (or resolves
 * to) anything but `true`, or throws.
 */
export async function runChecks(checks: ReadonlyArray<[string, () => unknown]>): Promise<CheckFailure[]> {
  const failures: CheckFailure[] = [];
  for (const [check, run] of checks) {
    try {
      const result = await run();
      if (result === false) failures.push({ check, reason: "returned false" });
      else if (result !== true)
        failures.push({ check, reason: `returned ${typeof result} instead of a boolean` });
    } catch (error) {
      failures.push({ check, reason: `threw: ${messageOf(error)}`, error });
    }
  }
  return failures;
}
